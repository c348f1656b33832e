// A synthetic AArch64 image for the projection tests: functions that call
// each other with BL, reach data objects with ADRP + ADD and ADRP + LDR,
// load their own literal-pool words with LDR (literal) and end with RET and
// their pool; the data objects follow the code. An update inserts
// instructions into one function, so every reference across the insertion
// (calls, pages and low bits of data addresses, literal offsets) changes
// while the code itself does not.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace vmodem::fota::testing {

struct A64Op {
  enum Kind { kFiller, kCall, kAdrpAdd, kAdrpLdr, kLiteral } kind = kFiller;
  std::uint32_t arg = 0;  // filler: the word; call: function; adrp: data object; literal: slot
};

struct A64Function {
  std::vector<A64Op> ops;
  std::uint32_t pool_words = 2;  // 8-byte literal slots after the RET
};

struct A64Mix {
  bool calls = true, adrp_add = true, adrp_ldr = true, literals = true;
};

inline constexpr std::uint32_t kA64DataObjects = 64;
inline constexpr std::uint32_t kA64DataObjectBytes = 40;

inline std::vector<A64Function> random_a64_program(int functions, std::uint32_t seed,
                                                   A64Mix mix = {}) {
  std::mt19937 rng(seed);
  std::vector<A64Function> program(static_cast<std::size_t>(functions));
  for (auto& f : program) {
    f.pool_words = 1 + rng() % 3;
    const int length = 40 + static_cast<int>(rng() % 120);
    for (int i = 0; i < length; ++i) {
      const std::uint32_t r = rng() % 12;
      if (r < 2 && mix.calls) {
        f.ops.push_back({A64Op::kCall, static_cast<std::uint32_t>(rng() % functions)});
      } else if (r < 3 && mix.adrp_add) {
        f.ops.push_back({A64Op::kAdrpAdd, static_cast<std::uint32_t>(rng() % kA64DataObjects)});
      } else if (r < 4 && mix.adrp_ldr) {
        f.ops.push_back({A64Op::kAdrpLdr, static_cast<std::uint32_t>(rng() % kA64DataObjects)});
      } else if (r < 5 && mix.literals) {
        f.ops.push_back({A64Op::kLiteral, static_cast<std::uint32_t>(rng() % f.pool_words)});
      } else {
        // MOVZ Xd, #imm16: never a branch, an address or a partner.
        const auto word =
            static_cast<std::uint32_t>(0xD2800000u | (rng() % 0x10000) << 5 | (rng() % 16));
        f.ops.push_back({A64Op::kFiller, word});
      }
    }
  }
  return program;
}

// Lays the program out at CPU address `base` (page-aligned) and encodes it.
class A64Assembler {
 public:
  static std::vector<std::uint8_t> assemble(const std::vector<A64Function>& program,
                                            std::uint32_t base) {
    std::vector<std::uint32_t> starts;
    std::uint32_t at = 0;
    for (const auto& f : program) {
      at = (at + 7) & ~7u;  // pools hold 8-byte words
      starts.push_back(at);
      at += 4 * static_cast<std::uint32_t>(size_in_words(f)) + 8 * f.pool_words;
      if ((at & 7) != 0) at += 4;
    }
    const std::uint32_t data = (at + 7) & ~7u;
    std::vector<std::uint8_t> out(data + kA64DataObjects * kA64DataObjectBytes, 0);
    for (std::uint32_t k = 0; k < kA64DataObjects * kA64DataObjectBytes; ++k)
      out[data + k] = static_cast<std::uint8_t>(k * 7 + 3);
    for (std::size_t i = 0; i < program.size(); ++i)
      emit(program[i], starts[i], starts, data, base, out);
    return out;
  }

 private:
  static std::size_t size_in_words(const A64Function& f) {
    std::size_t words = 1;  // RET
    for (const auto& op : f.ops)
      words += op.kind == A64Op::kAdrpAdd || op.kind == A64Op::kAdrpLdr ? 2 : 1;
    return words;
  }
  static void put(std::vector<std::uint8_t>& out, std::uint32_t at, std::uint32_t word) {
    for (int i = 0; i < 4; ++i)
      out[at + i] = static_cast<std::uint8_t>(word >> (8 * i));
  }
  static std::uint32_t adrp(std::uint32_t pc, std::uint32_t target, std::uint32_t rd) {
    const auto pages = static_cast<std::uint32_t>(static_cast<std::int64_t>(target >> 12) -
                                                  static_cast<std::int64_t>(pc >> 12));
    return 0x90000000u | (pages & 3) << 29 | ((pages >> 2) & 0x7FFFF) << 5 | rd;
  }
  static void emit(const A64Function& f, std::uint32_t start,
                   const std::vector<std::uint32_t>& starts, std::uint32_t data, std::uint32_t base,
                   std::vector<std::uint8_t>& out) {
    const std::uint32_t pool = start + 4 * static_cast<std::uint32_t>(size_in_words(f));
    const std::uint32_t pool_at = (pool + 7) & ~7u;
    std::uint32_t at = start;
    for (const auto& op : f.ops) {
      const std::uint32_t pc = base + at;
      const std::uint32_t object = base + data + op.arg * kA64DataObjectBytes;
      switch (op.kind) {
        case A64Op::kFiller:
          put(out, at, op.arg);
          break;
        case A64Op::kCall: {
          const auto offset = static_cast<std::int64_t>(starts[op.arg]) - at;
          put(out, at, 0x94000000u | (static_cast<std::uint32_t>(offset / 4) & 0x3FFFFFF));
          break;
        }
        case A64Op::kAdrpAdd:  // ADRP X2, object; ADD X2, X2, #lo12
          put(out, at, adrp(pc, object, 2));
          at += 4;
          put(out, at, 0x91000000u | (object & 0xFFF) << 10 | 2 << 5 | 2);
          break;
        case A64Op::kAdrpLdr: {  // ADRP X3, object; LDR X4, [X3, #lo12] (8-aligned)
          const std::uint32_t aligned = object & ~7u;
          put(out, at, adrp(pc, aligned, 3));
          at += 4;
          put(out, at, 0xF9400000u | ((aligned & 0xFFF) >> 3) << 10 | 3 << 5 | 4);
          break;
        }
        case A64Op::kLiteral: {  // LDR X5, pool slot
          const std::uint32_t slot = pool_at + 8 * op.arg;
          put(out, at, 0x58000000u | ((slot - at) / 4) << 5 | 5);
          break;
        }
      }
      at += 4;
    }
    put(out, at, 0xD65F03C0u);  // RET
    for (std::uint32_t k = 0; k < f.pool_words; ++k)
      put(out, pool_at + 8 * k, 0x12345600u + k);
  }
};

}  // namespace vmodem::fota::testing
