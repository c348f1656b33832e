// AArch64 half of reference_projection.hpp. Every aligned word of a code
// region is read as an A64 instruction (data in the text only misfires,
// which costs diff bytes); PC-relative references whose instruction and
// target moved by different amounts are re-encoded when the new offset
// fits the field: B/BL (imm26), B.cond, CBZ/CBNZ and LDR literal (imm19),
// TBZ/TBNZ (imm14), ADR, and ADRP with the ADD or load/store that completes
// its address (the page in the ADRP, the low 12 bits in its partner).
#include <optional>

#include "reference_projection.hpp"

namespace vmodem::fota::detail {
namespace {

using Rewrite = std::optional<std::uint32_t>;
constexpr int kPairWindow = 4;  // instructions after an ADRP searched for its partner

std::int64_t sign_extend(std::uint32_t value, int bits) {
  const std::uint32_t sign = 1u << (bits - 1);
  return static_cast<std::int32_t>(((value & ((sign << 1) - 1)) ^ sign) - sign);
}

bool fits(std::int64_t offset, int bits) {
  return offset >= -(std::int64_t{1} << (bits - 1)) && offset < (std::int64_t{1} << (bits - 1));
}

// The new distance from the instruction at `pc` to `target`, both moved
// through the alignment, or nothing if either was not matched.
std::optional<std::int64_t> new_offset(const AddressMap& map, std::uint32_t pc,
                                       std::int64_t target) {
  if (target < 0 || target > 0xFFFFFFFF) return std::nullopt;
  const auto new_pc = map.project(pc);
  const auto new_target = map.project(static_cast<std::uint32_t>(target));
  if (!new_pc || !new_target) return std::nullopt;
  return std::int64_t{*new_target} - *new_pc;
}

// A word-scaled immediate of `bits` bits at bit `shift` (B/BL, B.cond,
// CBZ, TBZ, LDR literal): offset = imm * 4 from the instruction.
Rewrite project_scaled(const AddressMap& map, std::uint32_t pc, std::uint32_t insn, int shift,
                       int bits) {
  const std::uint32_t mask = ((1u << bits) - 1) << shift;
  const std::int64_t imm = sign_extend((insn & mask) >> shift, bits) * 4;
  const auto offset = new_offset(map, pc, std::int64_t{pc} + imm);
  if (!offset || (*offset & 3) != 0 || !fits(*offset / 4, bits)) return std::nullopt;
  return (insn & ~mask) | ((static_cast<std::uint32_t>(*offset / 4) << shift) & mask);
}

// ADR/ADRP's 21-bit immediate (immhi at 5..23, immlo at 29..30).
std::int64_t adr_immediate(std::uint32_t insn) {
  return sign_extend(((insn >> 5) & 0x7FFFF) << 2 | ((insn >> 29) & 3), 21);
}
std::uint32_t with_adr_immediate(std::uint32_t insn, std::int64_t imm) {
  const auto v = static_cast<std::uint32_t>(imm);
  return (insn & 0x9F00001F) | ((v >> 2) & 0x7FFFF) << 5 | (v & 3) << 29;
}

Rewrite project_adr(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  const auto offset = new_offset(map, pc, std::int64_t{pc} + adr_immediate(insn));
  if (!offset || !fits(*offset, 21)) return std::nullopt;
  return with_adr_immediate(insn, *offset);
}

Rewrite project_single(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  if ((insn & 0x7C000000) == 0x14000000) return project_scaled(map, pc, insn, 0, 26);  // B, BL
  if ((insn & 0xFF000010) == 0x54000000) return project_scaled(map, pc, insn, 5, 19);  // B.cond
  if ((insn & 0x7E000000) == 0x34000000) return project_scaled(map, pc, insn, 5, 19);  // CBZ
  if ((insn & 0x7E000000) == 0x36000000) return project_scaled(map, pc, insn, 5, 14);  // TBZ
  if ((insn & 0x3B000000) == 0x18000000) return project_scaled(map, pc, insn, 5, 19);  // LDR lit
  if ((insn & 0x9F000000) == 0x10000000) return project_adr(map, pc, insn);            // ADR
  return std::nullopt;
}

// The low-12-bit partner of an ADRP writing register `rd`: ADD (immediate,
// 64-bit, unshifted) or a general-register load/store (unsigned offset,
// scaled by its size) with base `rd`. Returns the scale's log2, or nothing.
std::optional<int> partner_scale(std::uint32_t insn, std::uint32_t rd) {
  if (((insn >> 5) & 0x1F) != rd) return std::nullopt;
  if ((insn & 0xFFC00000) == 0x91000000) return 0;                // ADD Xd, Xn, #imm12
  if ((insn & 0x3F000000) == 0x39000000) return int(insn >> 30);  // LDR/STR{B,H,,} imm12
  return std::nullopt;
}

// ADRP at `p` and its partner: both rewritten, or neither.
void project_adrp(const AddressMap& map, const AddressRegion& region, ByteView old, std::size_t p,
                  Bytes& out) {
  const std::uint32_t pc = region.address + static_cast<std::uint32_t>(p - region.offset);
  const std::uint32_t adrp = load_le(old, p, 4), rd = adrp & 0x1F;
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (int i = 1; i <= kPairWindow && p + 4 * i + 4 <= end; ++i) {
    const std::size_t q = p + 4 * static_cast<std::size_t>(i);
    const std::uint32_t partner = load_le(old, q, 4);
    const auto scale = partner_scale(partner, rd);
    if (!scale) continue;
    const std::uint32_t lo12 = ((partner >> 10) & 0xFFF) << *scale;
    const std::int64_t target = (std::int64_t{pc} & ~0xFFFll) + adr_immediate(adrp) * 4096 + lo12;
    const auto new_pc = map.project(pc);
    if (target < 0 || target > 0xFFFFFFFF || !new_pc) return;
    const auto new_target = map.project(static_cast<std::uint32_t>(target));
    if (!new_target) return;
    const std::int64_t pages = (std::int64_t{*new_target} >> 12) - (std::int64_t{*new_pc} >> 12);
    const std::uint32_t new_lo12 = *new_target & 0xFFF;
    if (!fits(pages, 21) || (new_lo12 & ((1u << *scale) - 1)) != 0) return;
    store_le(out, p, 4, with_adr_immediate(adrp, pages));
    store_le(out, q, 4, (partner & ~(0xFFFu << 10)) | (new_lo12 >> *scale) << 10);
    return;
  }
}

void project_region(const AddressMap& map, const AddressRegion& region, ByteView old, Bytes& out) {
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (std::size_t p = region.offset; p + 4 <= end; p += 4) {
    const std::uint32_t pc = region.address + static_cast<std::uint32_t>(p - region.offset);
    const std::uint32_t insn = load_le(old, p, 4);
    if ((insn & 0x9F000000) == 0x90000000) {
      project_adrp(map, region, old, p, out);
    } else if (const auto rewritten = project_single(map, pc, insn)) {
      store_le(out, p, 4, *rewritten);
    }
  }
}

}  // namespace

void project_aarch64_code(const AddressMap& map, std::span<const AddressRegion> regions,
                          ByteView old, Bytes& out) {
  for (const auto& region : regions) {
    // A64 instructions are word-aligned in memory and in the file.
    if ((region.address & 3) == 0 && (region.offset & 3) == 0)
      project_region(map, region, old, out);
  }
}

}  // namespace vmodem::fota::detail
