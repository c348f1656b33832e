#include "reference_projection.hpp"

#include <optional>

namespace vmodem::fota::detail {
namespace {

// Xtensa (ESP8266: call0 ABI, code density option) encodings we project.
constexpr std::uint8_t kCall0Mask = 0x3F, kCall0Bits = 0x05;  // op0=5 (CALLn), n=0
constexpr std::uint8_t kL32rOp0 = 0x01;
constexpr std::int64_t kL32rReach = 256 * 1024;  // L32R reaches 256 KiB backwards

bool is_code_address(std::uint32_t address) {
  const std::uint32_t mb = address >> 20;
  return mb == 0x401 || mb == 0x402;  // IRAM and flash-mapped IROM
}

// Instruction length from op0: 16-bit "narrow" forms have op0 >= 8.
std::size_t instruction_length(std::uint8_t first_byte) {
  return (first_byte & 0x0F) >= 8 ? 2 : 3;
}

class AddressMap {
 public:
  AddressMap(ByteView old, std::span<const ControlEntry> program,
             std::span<const AddressRegion> old_regions, std::span<const AddressRegion> new_regions)
      : old_regions_(old_regions), new_regions_(new_regions), new_offset_of_old_(old.size(), -1) {
    // Where each old byte went. A byte used by several matches keeps the
    // first, so generator and applier agree without any tie-break data.
    std::int64_t old_pos = 0, new_pos = 0;
    for (const auto& e : program) {
      for (std::uint64_t i = 0; i < e.diff_length; ++i) {
        auto& slot = new_offset_of_old_[static_cast<std::size_t>(old_pos) + i];
        if (slot < 0) slot = new_pos + static_cast<std::int64_t>(i);
      }
      new_pos += static_cast<std::int64_t>(e.diff_length + e.extra_length);
      old_pos += static_cast<std::int64_t>(e.diff_length) + e.old_seek;
    }
  }

  // The new CPU address of what old had at CPU address `address`, if known.
  std::optional<std::uint32_t> project(std::uint32_t address) const {
    const auto old_offset = to_offset(old_regions_, address);
    if (!old_offset || *old_offset >= new_offset_of_old_.size()) return std::nullopt;
    const std::int64_t new_offset = new_offset_of_old_[*old_offset];
    if (new_offset < 0) return std::nullopt;
    return to_address(new_regions_, static_cast<std::uint64_t>(new_offset));
  }

 private:
  static std::optional<std::uint64_t> to_offset(std::span<const AddressRegion> regions,
                                                std::uint32_t address) {
    for (const auto& r : regions) {
      if (address >= r.address && address - r.address < r.length) {
        return std::uint64_t{r.offset} + (address - r.address);
      }
    }
    return std::nullopt;
  }
  static std::optional<std::uint32_t> to_address(std::span<const AddressRegion> regions,
                                                 std::uint64_t offset) {
    for (const auto& r : regions) {
      if (offset >= r.offset && offset - r.offset < r.length) {
        return static_cast<std::uint32_t>(r.address + (offset - r.offset));
      }
    }
    return std::nullopt;
  }

  std::span<const AddressRegion> old_regions_, new_regions_;
  std::vector<std::int64_t> new_offset_of_old_;
};

std::uint32_t load24(ByteView b, std::size_t p) {
  return std::uint32_t{b[p]} | std::uint32_t{b[p + 1]} << 8 | std::uint32_t{b[p + 2]} << 16;
}
void store24(Bytes& b, std::size_t p, std::uint32_t v) {
  b[p] = static_cast<std::uint8_t>(v);
  b[p + 1] = static_cast<std::uint8_t>(v >> 8);
  b[p + 2] = static_cast<std::uint8_t>(v >> 16);
}

// CALL0: target = (pc & ~3) + (sext(offset18) << 2) + 4.
std::optional<std::uint32_t> project_call0(const AddressMap& map, std::uint32_t pc,
                                           std::uint32_t insn) {
  const std::int32_t offset = static_cast<std::int32_t>(insn << 8) >> 14;
  const std::uint32_t target = (pc & ~3u) + static_cast<std::uint32_t>(offset * 4) + 4;
  const auto new_pc = map.project(pc), new_target = map.project(target);
  if (!new_pc || !new_target) return std::nullopt;
  const std::int64_t delta = std::int64_t{*new_target} - ((*new_pc & ~3u) + 4);
  const auto field = static_cast<std::uint32_t>(delta >> 2) & 0x3FFFF;
  return (insn & 0x3F) | field << 6;
}

// L32R: literal = ((pc + 3) & ~3) + (0xFFFC0000 | imm16 << 2), always behind pc.
std::optional<std::uint32_t> project_l32r(const AddressMap& map, std::uint32_t pc,
                                          std::uint32_t insn) {
  const std::uint32_t literal = ((pc + 3) & ~3u) + (0xFFFC0000u | (insn >> 8) << 2);
  const auto new_pc = map.project(pc), new_literal = map.project(literal);
  if (!new_pc || !new_literal) return std::nullopt;
  const std::int64_t delta = std::int64_t{*new_literal} - ((*new_pc + 3) & ~3u);
  if (delta >= 0 || delta < -kL32rReach || (delta & 3) != 0) return std::nullopt;
  return (insn & 0xFF) | (static_cast<std::uint32_t>(delta >> 2) & 0xFFFF) << 8;
}

// Linear sweep over one code region, re-targeting CALL0 and L32R.
void project_code(const AddressMap& map, const AddressRegion& region, ByteView old, Bytes& out) {
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (std::size_t p = region.offset; p + 3 <= end;) {
    const std::uint8_t first = old[p];
    const std::uint32_t pc = region.address + static_cast<std::uint32_t>(p - region.offset);
    std::optional<std::uint32_t> rewritten;
    if ((first & kCall0Mask) == kCall0Bits) {
      rewritten = project_call0(map, pc, load24(old, p));
    } else if ((first & 0x0F) == kL32rOp0) {
      rewritten = project_l32r(map, pc, load24(old, p));
    }
    if (rewritten) store24(out, p, *rewritten);
    p += instruction_length(first);
  }
}

// Every 4-byte-aligned word that holds a mapped address is re-targeted
// (literal pools, function pointer tables, data pointers).
void project_pointers(const AddressMap& map, const AddressRegion& region, ByteView old,
                      Bytes& out) {
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (std::size_t p = region.offset; p + 4 <= end; ++p) {
    if (((region.address + (p - region.offset)) & 3) != 0) continue;
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
      value |= std::uint32_t{old[p + i]} << (8 * i);
    const auto projected = map.project(value);
    if (!projected) continue;
    for (int i = 0; i < 4; ++i)
      out[p + i] = static_cast<std::uint8_t>(*projected >> (8 * i));
  }
}

}  // namespace

bool regions_fit(std::span<const AddressRegion> regions, std::uint64_t image_size) {
  if (regions.size() > kMaxRegions) return false;
  for (const auto& r : regions) {
    if (std::uint64_t{r.offset} + r.length > image_size) return false;
    if (std::uint64_t{r.address} + r.length > 0x1'0000'0000ull) return false;
  }
  return true;
}

Bytes project_references(ByteView old, std::span<const ControlEntry> program,
                         std::span<const AddressRegion> old_regions,
                         std::span<const AddressRegion> new_regions) {
  Bytes out(old.begin(), old.end());
  const AddressMap map(old, program, old_regions, new_regions);
  // Pointers first, then code: where both readings apply to the same bytes
  // the instruction reading wins, identically on both sides.
  for (const auto& region : old_regions)
    project_pointers(map, region, old, out);
  for (const auto& region : old_regions) {
    if (is_code_address(region.address)) project_code(map, region, old, out);
  }
  return out;
}

}  // namespace vmodem::fota::detail
