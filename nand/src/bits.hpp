// Bit-level helpers over byte ranges.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include <vmodem/nand/rng.hpp>

namespace vmodem::nand::bits {

inline std::uint32_t popcount(std::span<const std::uint8_t> bytes) {
  std::uint32_t n = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    n += static_cast<std::uint32_t>(std::popcount(word));
  }
  for (; i < bytes.size(); ++i)
    n += static_cast<std::uint32_t>(std::popcount(bytes[i]));
  return n;
}

// Every byte zero, checked at memcmp's speed (a byte loop is 10x slower, and
// copying a whole image scans hundreds of MB): the first byte is zero and
// each byte equals the one before it.
inline bool all_zero(std::span<const std::uint8_t> bytes) {
  return bytes.empty() ||
         (bytes[0] == 0 && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0);
}

// 16-byte lanes (GCC/Clang vector extension: SSE2 on any x86-64, NEON on
// arm64), so the hot copy loops below run as wide as the baseline memcpy.
using Lanes = std::uint64_t __attribute__((vector_size(16)));

// dst = ~src. Cells are stored inverted; this is the hot path of every read.
inline void invert_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + sizeof(Lanes) <= n; i += sizeof(Lanes)) {
    Lanes v;
    std::memcpy(&v, src + i, sizeof v);
    v = ~v;
    std::memcpy(dst + i, &v, sizeof v);
  }
  for (; i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(~src[i]);
}

// dst |= ~src: programming `src` into inverted cells.
inline void or_inverted(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + sizeof(Lanes) <= n; i += sizeof(Lanes)) {
    Lanes cells, data;
    std::memcpy(&cells, dst + i, sizeof cells);
    std::memcpy(&data, src + i, sizeof data);
    cells |= ~data;
    std::memcpy(dst + i, &cells, sizeof cells);
  }
  for (; i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(dst[i] | ~src[i]);
}

// dst ^= src.
inline void xor_into(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + sizeof(Lanes) <= n; i += sizeof(Lanes)) {
    Lanes a, b;
    std::memcpy(&a, dst + i, sizeof a);
    std::memcpy(&b, src + i, sizeof b);
    a ^= b;
    std::memcpy(dst + i, &a, sizeof a);
  }
  for (; i < n; ++i)
    dst[i] ^= src[i];
}

// Fills `out` with random bits, each 1 with probability p256 / 256
// (0 <= p256 <= 256), using 8 draws per 64 bits: the binary digits of p,
// least significant first, select OR (digit 1) or AND (digit 0) of a fresh
// random word with the running result.
inline void random_bits(std::span<std::uint8_t> out, std::uint32_t p256, Rng& rng) {
  for (std::size_t i = 0; i < out.size(); i += 8) {
    std::uint64_t word = 0;
    if (p256 >= 256) {
      word = ~std::uint64_t{0};
    } else {
      for (int digit = 0; digit < 8; ++digit) {
        const std::uint64_t r = rng.next();
        word = ((p256 >> digit) & 1U) ? (word | r) : (word & r);
      }
    }
    const std::size_t n = std::min<std::size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, &word, n);
  }
}

}  // namespace vmodem::nand::bits
