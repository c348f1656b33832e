// Damage done to the chip from outside its own operations: by a fault rule
// as an operation passes (FaultInjector), by `vmodem ctl inject` on the
// running module, by `vmodem image inject` on an image at rest. One
// vocabulary and one apply(), so the three mean the same thing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <vmodem/nand/chip.hpp>

namespace vmodem::nand {

struct Damage {
  enum class Kind : std::uint8_t {
    bit_flips,      // `bits` persistent flips in the page (in `sector`, or spread)
    uncorrectable,  // ECC strength + 1 flips in one sector (`sector`, default 0)
    unstable,       // the page reads differently each time (TearMode::unstable)
    bad_block,      // the bad-block marker written (the block is skipped from now on)
    failed_block,   // the block's program and erase report FAIL from now on
  };
  Kind kind = Kind::bit_flips;
  std::uint32_t bits = 1;
  std::optional<std::uint32_t> sector;
};

// "5 bit flips", "an uncorrectable sector", ... for logs and CLI output.
std::string describe(const Damage& damage);

// Applies `damage` at `addr` (the page is ignored for block damage).
// Persistent until the block is erased (flips, unstable cells) or for good
// (bad, failed). Errors: the chip's (out_of_range off the chip).
Status apply(SimulatedChip& chip, PageAddr addr, const Damage& damage);

}  // namespace vmodem::nand
