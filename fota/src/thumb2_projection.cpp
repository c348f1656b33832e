// Thumb-2 half of reference_projection.hpp. A linear sweep decodes each
// halfword as a 16- or 32-bit instruction (literal pools in the stream are
// mis-decoded for a few halfwords, then Thumb re-synchronises) and rewrites
// the PC-relative references whose instruction and target moved by
// different amounts. Every rewrite is re-encoded only when the new offset
// fits the field; otherwise the bytes stay as in old (the diff pays).
#include <optional>

#include "reference_projection.hpp"

namespace vmodem::fota::detail {
namespace {

using Rewrite = std::optional<std::uint32_t>;

std::int32_t sign_extend(std::uint32_t value, int bits) {
  const std::uint32_t sign = 1u << (bits - 1);
  return static_cast<std::int32_t>((value ^ sign) - sign);
}

bool fits(std::int64_t offset, int bits) {
  return offset >= -(std::int64_t{1} << (bits - 1)) && offset < (std::int64_t{1} << (bits - 1));
}

// Where the instruction at `pc` and its target `target` went: the new
// distance, measured from new pc + 4 (the Thumb PC), or nothing if either
// end was not matched.
std::optional<std::int64_t> new_branch_offset(const AddressMap& map, std::uint32_t pc,
                                              std::uint32_t target) {
  const auto new_pc = map.project(pc), new_target = map.project(target);
  if (!new_pc || !new_target) return std::nullopt;
  return std::int64_t{*new_target} - (std::int64_t{*new_pc} + 4);
}

// The same for literal references, whose base is Align(PC, 4).
std::optional<std::int64_t> new_literal_offset(const AddressMap& map, std::uint32_t pc,
                                               std::uint32_t literal) {
  const auto new_pc = map.project(pc), new_literal = map.project(literal);
  if (!new_pc || !new_literal) return std::nullopt;
  return std::int64_t{*new_literal} - ((std::int64_t{*new_pc} + 4) & ~std::int64_t{3});
}

// --- 32-bit encodings; `insn` is hw1 | hw2 << 16 as stored in memory.

// BL, B.W (T4): S:I1:I2:imm10:imm11:0, I = NOT(J XOR S), +-16 MiB.
Rewrite project_branch_t4(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  const std::uint32_t hw1 = insn & 0xFFFF, hw2 = insn >> 16;
  const std::uint32_t s = (hw1 >> 10) & 1, j1 = (hw2 >> 13) & 1, j2 = (hw2 >> 11) & 1;
  const std::uint32_t i1 = ~(j1 ^ s) & 1, i2 = ~(j2 ^ s) & 1;
  const std::uint32_t imm =
      s << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3FF) << 12 | (hw2 & 0x7FF) << 1;
  const auto offset = new_branch_offset(map, pc, pc + 4 + sign_extend(imm, 25));
  if (!offset || !fits(*offset, 25)) return std::nullopt;
  const auto v = static_cast<std::uint32_t>(*offset);
  const std::uint32_t ns = (v >> 24) & 1;
  const std::uint32_t nj1 = (~((v >> 23) & 1) ^ ns) & 1, nj2 = (~((v >> 22) & 1) ^ ns) & 1;
  const std::uint32_t new_hw1 = (hw1 & 0xF800) | ns << 10 | ((v >> 12) & 0x3FF);
  const std::uint32_t new_hw2 = (hw2 & 0xD000) | nj1 << 13 | nj2 << 11 | ((v >> 1) & 0x7FF);
  return new_hw1 | new_hw2 << 16;
}

// B<c>.W (T3): S:J2:J1:imm6:imm11:0, +-1 MiB.
Rewrite project_branch_t3(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  const std::uint32_t hw1 = insn & 0xFFFF, hw2 = insn >> 16;
  const std::uint32_t imm = ((hw1 >> 10) & 1) << 20 | ((hw2 >> 11) & 1) << 19 |
                            ((hw2 >> 13) & 1) << 18 | (hw1 & 0x3F) << 12 | (hw2 & 0x7FF) << 1;
  const auto offset = new_branch_offset(map, pc, pc + 4 + sign_extend(imm, 21));
  if (!offset || !fits(*offset, 21)) return std::nullopt;
  const auto v = static_cast<std::uint32_t>(*offset);
  const std::uint32_t new_hw1 = (hw1 & 0xFBC0) | ((v >> 20) & 1) << 10 | ((v >> 12) & 0x3F);
  const std::uint32_t new_hw2 =
      (hw2 & 0xD000) | ((v >> 18) & 1) << 13 | ((v >> 19) & 1) << 11 | ((v >> 1) & 0x7FF);
  return new_hw1 | new_hw2 << 16;
}

// LDR.W Rt, [PC, #+-imm12].
Rewrite project_ldr_literal_w(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  const std::uint32_t hw1 = insn & 0xFFFF, hw2 = insn >> 16;
  const std::int64_t imm = (hw1 & 0x80) != 0 ? (hw2 & 0xFFF) : -std::int64_t{hw2 & 0xFFF};
  const std::uint32_t literal = ((pc + 4) & ~3u) + static_cast<std::uint32_t>(imm);
  const auto offset = new_literal_offset(map, pc, literal);
  if (!offset || *offset > 0xFFF || *offset < -0xFFF) return std::nullopt;
  const std::uint32_t up = *offset >= 0 ? 0x80 : 0;
  const auto magnitude = static_cast<std::uint32_t>(*offset >= 0 ? *offset : -*offset);
  return ((hw1 & 0xFF7F) | up) | ((hw2 & 0xF000) | magnitude) << 16;
}

Rewrite project_32bit(const AddressMap& map, std::uint32_t pc, std::uint32_t insn) {
  const std::uint32_t hw1 = insn & 0xFFFF, hw2 = insn >> 16;
  if ((hw1 & 0xF800) == 0xF000) {
    switch (hw2 & 0xD000) {
      case 0xD000:  // BL
      case 0x9000:  // B.W
        return project_branch_t4(map, pc, insn);
      case 0x8000:  // B<c>.W; cond 111x is MSR, MRS, hints: not a branch
        if (((hw1 >> 6) & 0xE) != 0xE) return project_branch_t3(map, pc, insn);
        return std::nullopt;
      default:  // BLX to ARM code (none on Cortex-M), data-processing
        return std::nullopt;
    }
  }
  if ((hw1 & 0xFF7F) == 0xF85F) return project_ldr_literal_w(map, pc, insn);
  return std::nullopt;
}

// --- 16-bit encodings.

// LDR Rt,[PC,#imm8*4] and ADR Rd,#imm8*4: forward only, 0..1020.
Rewrite project_literal_t1(const AddressMap& map, std::uint32_t pc, std::uint32_t hw) {
  const std::uint32_t literal = ((pc + 4) & ~3u) + (hw & 0xFF) * 4;
  const auto offset = new_literal_offset(map, pc, literal);
  if (!offset || *offset < 0 || *offset > 1020 || (*offset & 3) != 0) return std::nullopt;
  return (hw & 0xFF00) | static_cast<std::uint32_t>(*offset / 4);
}

// B (T2, +-2 KiB), B<c> (T1, +-256 B), CBZ/CBNZ (forward 0..126).
Rewrite project_short_branch(const AddressMap& map, std::uint32_t pc, std::uint32_t hw) {
  if ((hw & 0xF800) == 0xE000) {
    const auto offset = new_branch_offset(map, pc, pc + 4 + sign_extend((hw & 0x7FF) << 1, 12));
    if (!offset || !fits(*offset, 12)) return std::nullopt;
    return 0xE000 | ((static_cast<std::uint32_t>(*offset) >> 1) & 0x7FF);
  }
  if ((hw & 0xF000) == 0xD000 && ((hw >> 8) & 0xF) < 0xE) {
    const auto offset = new_branch_offset(map, pc, pc + 4 + sign_extend((hw & 0xFF) << 1, 9));
    if (!offset || !fits(*offset, 9)) return std::nullopt;
    return (hw & 0xFF00) | ((static_cast<std::uint32_t>(*offset) >> 1) & 0xFF);
  }
  if ((hw & 0xF500) == 0xB100) {
    const std::uint32_t imm = ((hw >> 9) & 1) << 6 | ((hw >> 3) & 0x1F) << 1;
    const auto offset = new_branch_offset(map, pc, pc + 4 + imm);
    if (!offset || *offset < 0 || *offset > 126) return std::nullopt;
    const auto v = static_cast<std::uint32_t>(*offset);
    return (hw & 0xFD07) | ((v >> 6) & 1) << 9 | ((v >> 1) & 0x1F) << 3;
  }
  return std::nullopt;
}

Rewrite project_16bit(const AddressMap& map, std::uint32_t pc, std::uint32_t hw) {
  const std::uint32_t top5 = hw >> 11;
  if (top5 == 0x09 || top5 == 0x14) return project_literal_t1(map, pc, hw);  // LDR lit, ADR
  return project_short_branch(map, pc, hw);
}

bool is_32bit(std::uint32_t hw1) {
  const std::uint32_t top5 = hw1 >> 11;
  return top5 == 0x1D || top5 == 0x1E || top5 == 0x1F;
}

void project_region(const AddressMap& map, const AddressRegion& region, ByteView old, Bytes& out) {
  const std::size_t end = std::size_t{region.offset} + region.length;
  for (std::size_t p = region.offset; p + 2 <= end;) {
    const std::uint32_t pc = region.address + static_cast<std::uint32_t>(p - region.offset);
    const std::uint32_t hw1 = load_le(old, p, 2);
    if (!is_32bit(hw1)) {
      if (const auto rewritten = project_16bit(map, pc, hw1)) store_le(out, p, 2, *rewritten);
      p += 2;
      continue;
    }
    if (p + 4 > end) break;
    if (const auto rewritten = project_32bit(map, pc, load_le(old, p, 4))) {
      store_le(out, p, 4, *rewritten);
    }
    p += 4;
  }
}

}  // namespace

void project_thumb2_code(const AddressMap& map, std::span<const AddressRegion> regions,
                         ByteView old, Bytes& out) {
  for (const auto& region : regions) {
    // Thumb code is halfword-aligned; a region that is not holds no code.
    if ((region.address & 1) == 0) project_region(map, region, old, out);
  }
}

}  // namespace vmodem::fota::detail
