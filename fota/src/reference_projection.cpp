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

void project_region_pointers(const AddressMap& map, const AddressRegion& region, ByteView old,
                             Bytes& out) {
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (std::size_t p = region.offset; p + 4 <= end; ++p) {
    if (((region.address + (p - region.offset)) & 3) != 0) continue;
    const auto projected = map.project(load_le(old, p, 4));
    if (projected) store_le(out, p, 4, *projected);
  }
}

}  // namespace

void project_pointers(const AddressMap& map, std::span<const AddressRegion> regions, ByteView old,
                      Bytes& out) {
  for (const auto& region : regions)
    project_region_pointers(map, region, old, out);
}

bool regions_fit(std::span<const AddressRegion> regions, std::uint64_t image_size) {
  if (regions.size() > kMaxRegions) return false;
  for (const auto& r : regions) {
    if (std::uint64_t{r.offset} + r.length > image_size) return false;
    if (std::uint64_t{r.address} + r.length > 0x1'0000'0000ull) return false;
  }
  return true;
}

Bytes project_references(Isa isa, ByteView old, std::span<const ControlEntry> program,
                         std::span<const AddressRegion> old_regions,
                         std::span<const AddressRegion> new_regions) {
  Bytes out(old.begin(), old.end());
  const AddressMap map(old, program, old_regions, new_regions);
  // Pointers first, then code: where both readings apply to the same bytes
  // the instruction reading wins, identically on both sides.
  project_pointers(map, old_regions, old, out);
  if (isa == Isa::kThumb2) {
    project_thumb2_code(map, old_regions, old, out);
    return out;
  }
  if (isa == Isa::kAarch64) {
    project_aarch64_code(map, old_regions, old, out);
    return out;
  }
  for (const auto& region : old_regions) {
    if (is_code_address(region.address)) project_code(map, region, old, out);
  }
  return out;
}

}  // namespace vmodem::fota::detail
