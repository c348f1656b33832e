// fs::crc32 is zlib's CRC-32 whatever path ISA-L picks for the CPU (and the
// tail of a buffer): critical-file checksums recorded by one build, or
// written by the profile tools with zlib, must verify under another.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/rng.hpp>

namespace {

std::uint32_t zlib_crc(const std::vector<std::uint8_t>& data) {
  return static_cast<std::uint32_t>(::crc32(0L, data.data(), static_cast<uInt>(data.size())));
}

TEST(Crc32, MatchesZlibAtEveryLengthAroundTheFoldBoundaries) {
  vmodem::nand::Rng rng(7);
  for (std::size_t n = 0; n < 600; ++n) {
    std::vector<std::uint8_t> data(n);
    for (auto& b : data)
      b = static_cast<std::uint8_t>(rng.next());
    ASSERT_EQ(vmodem::fs::crc32(data), zlib_crc(data)) << n << " bytes";
  }
}

TEST(Crc32, MatchesZlibOnLargeBuffersAndKnownValue) {
  vmodem::nand::Rng rng(11);
  for (const std::size_t n : {4096u, 84000u, 84001u, 1u << 20}) {
    std::vector<std::uint8_t> data(n);
    for (auto& b : data)
      b = static_cast<std::uint8_t>(rng.next());
    EXPECT_EQ(vmodem::fs::crc32(data), zlib_crc(data)) << n << " bytes";
  }
  // The standard check value of CRC-32/ISO-HDLC ("123456789").
  const std::vector<std::uint8_t> check{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(vmodem::fs::crc32(check), 0xCBF43926u);
  // 64 zero bytes and 64 0xFF bytes: the fold path on degenerate input.
  EXPECT_EQ(vmodem::fs::crc32(std::vector<std::uint8_t>(64, 0)),
            zlib_crc(std::vector<std::uint8_t>(64, 0)));
  EXPECT_EQ(vmodem::fs::crc32(std::vector<std::uint8_t>(64, 0xFF)),
            zlib_crc(std::vector<std::uint8_t>(64, 0xFF)));
}

}  // namespace
