// A synthetic ARM Cortex-M (Thumb-2) image for the projection tests: a
// vector table, then functions that call each other with BL, jump with B.W,
// load literal-pool words with LDR (PC-relative) and end with their pool of
// function pointers (Thumb bit set) and data pointers. An update is the same
// program with instructions inserted into one function, so every reference
// across the insertion changes while the code itself does not.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace vmodem::fota::testing {

struct Thumb2Op {
  enum Kind { kFiller, kCall, kJump, kLoad } kind = kFiller;
  std::uint32_t arg = 0;  // filler: the halfword; call/jump: function; load: pool slot
};

struct Thumb2Function {
  std::vector<Thumb2Op> ops;
  std::vector<std::uint32_t> pool;  // function index (pointer to code) or ~offset (data)
};

// Which references a random program contains besides filler.
struct Thumb2Mix {
  bool calls = true, jumps = true, loads = true;
};

// `functions` random functions from a fixed seed (each test names its own).
inline std::vector<Thumb2Function> random_thumb2_program(int functions, std::uint32_t seed,
                                                         Thumb2Mix mix = {}) {
  std::mt19937 rng(seed);
  std::vector<Thumb2Function> program(static_cast<std::size_t>(functions));
  for (auto& f : program) {
    const int pool = 2 + static_cast<int>(rng() % 6);
    for (int k = 0; k < pool; ++k)
      f.pool.push_back(rng() % 4 == 0 ? ~(rng() % 4096 * 4) : rng() % functions);
    const int length = 40 + static_cast<int>(rng() % 120);
    for (int i = 0; i < length; ++i) {
      const std::uint32_t r = rng() % 10;
      if (r < 2 && mix.calls) {
        f.ops.push_back({Thumb2Op::kCall, static_cast<std::uint32_t>(rng() % functions)});
      } else if (r < 3 && mix.loads) {
        f.ops.push_back({Thumb2Op::kLoad, static_cast<std::uint32_t>(rng() % pool)});
      } else if (r < 4 && i > 10 && mix.jumps) {
        f.ops.push_back({Thumb2Op::kJump, static_cast<std::uint32_t>(rng() % functions)});
      } else {
        // MOVS/CMP/ADDS/SUBS Rd, #imm8: never a branch or a literal load.
        f.ops.push_back({Thumb2Op::kFiller, static_cast<std::uint32_t>(0x2000 | (rng() % 0x2000))});
      }
    }
  }
  return program;
}

class Thumb2Assembler {
 public:
  // Lays `program` out at `base` and encodes it.
  static std::vector<std::uint8_t> assemble(const std::vector<Thumb2Function>& program,
                                            std::uint32_t base) {
    Thumb2Assembler a;
    std::vector<std::uint32_t> starts, pools;
    std::uint32_t at = 64;  // 16 system vectors
    for (const auto& f : program) {
      starts.push_back(base + at);
      at += static_cast<std::uint32_t>(code_bytes(f));
      at = (at + 3) & ~3u;
      pools.push_back(base + at);
      at += static_cast<std::uint32_t>(4 * f.pool.size());
    }
    a.word(0x20020000);     // initial SP
    a.word(starts[0] | 1);  // reset
    a.word(starts[1] | 1);  // NMI
    a.word(starts[1] | 1);  // HardFault
    for (int i = 4; i < 16; ++i)
      a.word(0);
    for (std::size_t i = 0; i < program.size(); ++i) {
      a.function(program[i], base, starts, pools[i]);
    }
    return a.out_;
  }

 private:
  static std::size_t code_bytes(const Thumb2Function& f) {
    std::size_t n = 2;  // BX LR
    for (const auto& op : f.ops)
      n += op.kind == Thumb2Op::kCall || op.kind == Thumb2Op::kJump ? 4 : 2;
    return n;
  }

  void half(std::uint32_t v) {
    out_.push_back(static_cast<std::uint8_t>(v));
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  void word(std::uint32_t v) {
    half(v & 0xFFFF);
    half(v >> 16);
  }
  // BL (link) or B.W, T4 encoding.
  void branch(std::uint32_t pc, std::uint32_t target, bool link) {
    const std::uint32_t off = target - (pc + 4);
    const std::uint32_t s = (off >> 24) & 1;
    const std::uint32_t j1 = (~(off >> 23) ^ s) & 1, j2 = (~(off >> 22) ^ s) & 1;
    half(0xF000 | s << 10 | ((off >> 12) & 0x3FF));
    half((link ? 0xD000 : 0x9000) | j1 << 13 | j2 << 11 | ((off >> 1) & 0x7FF));
  }

  void function(const Thumb2Function& f, std::uint32_t base,
                const std::vector<std::uint32_t>& starts, std::uint32_t pool) {
    for (const auto& op : f.ops) {
      const auto pc = base + static_cast<std::uint32_t>(out_.size());
      switch (op.kind) {
        case Thumb2Op::kFiller:
          half(op.arg);
          break;
        case Thumb2Op::kCall:
        case Thumb2Op::kJump:
          branch(pc, starts[op.arg], op.kind == Thumb2Op::kCall);
          break;
        case Thumb2Op::kLoad:  // LDR r0, [PC, #imm8*4]
          half(0x4800 | (pool + 4 * op.arg - ((pc + 4) & ~3u)) / 4);
          break;
      }
    }
    half(0x4770);  // BX LR
    while (out_.size() % 4 != 0)
      half(0xBF00);  // NOP
    for (const std::uint32_t entry : f.pool) {
      // Data pointers: even addresses into the code area.
      word(static_cast<std::int32_t>(entry) < 0 ? base + 64 + ~entry % 8192 : starts[entry] | 1);
    }
  }

  std::vector<std::uint8_t> out_;
};

}  // namespace vmodem::fota::testing
