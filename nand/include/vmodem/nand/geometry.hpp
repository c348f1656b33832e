// Geometry of a NAND chip and page addressing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vmodem::nand {

// Shape of an SLC NAND array (ONFI-style: pages with a spare/OOB area,
// grouped into erase blocks). All sizes in bytes.
struct Geometry {
  std::uint32_t page_size = 2048;      // main area per page
  std::uint32_t spare_size = 64;       // out-of-band area per page
  std::uint32_t pages_per_block = 64;  // erase unit
  std::uint32_t block_count = 1024;    // blocks on the chip
  std::uint32_t nop = 4;               // partial programs allowed per page between erases

  std::uint32_t raw_page_size() const { return page_size + spare_size; }
  std::uint64_t page_count() const { return std::uint64_t{block_count} * pages_per_block; }
  std::uint64_t block_bytes() const { return std::uint64_t{page_size} * pages_per_block; }
  std::uint64_t capacity_bytes() const { return block_bytes() * block_count; }
  bool operator==(const Geometry&) const = default;
};

// A page on the chip (or, for a Partition, on the partition's logical blocks).
struct PageAddr {
  std::uint32_t block = 0;
  std::uint32_t page = 0;
  bool operator==(const PageAddr&) const = default;
};

// Byte 0 of a block's first page spare area holds the bad-block marker: 0xFF
// means good, anything else bad (ONFI convention). Bytes 0-1 of the spare area
// are reserved for it and are not covered by ECC.
inline constexpr std::uint32_t kBadBlockMarkerBytes = 2;

// Largest page the simulator supports (4 KiB + 256 spare), so per-page
// scratch buffers can live on the stack.
inline constexpr std::uint32_t kMaxPageSize = 4096;
inline constexpr std::uint32_t kMaxSpareSize = 256;
inline constexpr std::uint32_t kMaxRawPage = kMaxPageSize + kMaxSpareSize;

}  // namespace vmodem::nand
