// Test data: a text's bytes, and seeded pseudo-random contents (the same
// bytes for the same seed, in any test and any process).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace vmodem::testing {

inline std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

// `n` bytes of an xorshift32 stream seeded from `seed`.
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

}  // namespace vmodem::testing
