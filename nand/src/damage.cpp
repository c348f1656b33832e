// One vocabulary for damage (damage.hpp).
#include <vmodem/nand/damage.hpp>

namespace vmodem::nand {

std::string describe(const Damage& damage) {
  switch (damage.kind) {
    case Damage::Kind::bit_flips:
      return std::to_string(damage.bits) + (damage.bits == 1 ? " bit flip" : " bit flips");
    case Damage::Kind::uncorrectable:
      return "an uncorrectable sector";
    case Damage::Kind::unstable:
      return "unstable cells";
    case Damage::Kind::bad_block:
      return "a bad-block marker";
    case Damage::Kind::failed_block:
      return "a failed block (program/erase report FAIL)";
  }
  return "damage";
}

Status apply(SimulatedChip& chip, PageAddr addr, const Damage& damage) {
  switch (damage.kind) {
    case Damage::Kind::bit_flips:
      return chip.inject_bit_flips(addr, damage.bits, damage.sector);
    case Damage::Kind::uncorrectable:
      return chip.inject_bit_flips(addr, chip.config().ecc.strength_bits + 1,
                                   damage.sector.value_or(0));
    case Damage::Kind::unstable:
      return chip.make_unstable(addr);
    case Damage::Kind::bad_block:
      return chip.mark_bad(addr.block);
    case Damage::Kind::failed_block:
      return chip.fail_block(addr.block);
  }
  return fail(Errc::out_of_range, addr.block, addr.page, "unknown damage");
}

}  // namespace vmodem::nand
