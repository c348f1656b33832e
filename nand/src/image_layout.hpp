// Byte layout shared by RAM devices and image files (format version 2).
//
//   [ header, 4 KiB ]
//   [ cells: block_count * pages_per_block * (page_size + spare_size), inverted ]
//   [ BlockMeta per block ]
//   [ PageMeta per page ]
//   [ deviation owners: u32 per slot, global page index + 1, 0 = free ]
//   [ deviation masks: (page_size + spare_size) per slot ]
//   [ attachment: attachment_size bytes (version 2; none in version 1) ]
//
// Version 1 is version 2 without an attachment (its header holds zeros
// where version 2 records one), so both are read.
//
// Every region starts on a 4 KiB boundary. All integers little-endian (the
// simulator only runs on little-endian hosts; the header records the order).
#pragma once

#include <cstdint>

#include <vmodem/nand/geometry.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::nand::layout {

inline constexpr char kMagic[8] = {'V', 'M', 'N', 'A', 'N', 'D', 'I', 'M'};
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint32_t kOldestFormatVersion = 1;
inline constexpr std::uint32_t kHeaderSize = 4096;
inline constexpr std::uint32_t kByteOrderMark = 0x01020304;

struct Header {
  char magic[8];
  std::uint32_t format_version;
  std::uint32_t header_size;
  std::uint32_t byte_order;
  std::uint32_t page_size, spare_size, pages_per_block, block_count, nop;
  std::uint32_t deviation_slots;
  std::uint32_t reserved0;
  std::uint64_t manufacture_seed;
  std::uint64_t cells_offset, block_meta_offset, page_meta_offset;
  std::uint64_t owners_offset, masks_offset, total_size;
  DeviceCounters counters;
  char label[64];  // NUL-terminated: the profile that made the image
  std::uint64_t attachment_offset, attachment_size;  // 0, 0: none
};
static_assert(sizeof(Header) <= kHeaderSize);

struct Offsets {
  std::uint64_t cells, block_meta, page_meta, owners, masks, attachment, total;
};

inline std::uint64_t align_up(std::uint64_t value) {
  return (value + 4095) & ~std::uint64_t{4095};
}

inline Offsets compute_offsets(const Geometry& g, std::uint32_t slots,
                               std::uint64_t attachment_size) {
  Offsets o{};
  o.cells = kHeaderSize;
  o.block_meta = align_up(o.cells + g.page_count() * g.raw_page_size());
  o.page_meta = align_up(o.block_meta + std::uint64_t{g.block_count} * sizeof(BlockMeta));
  o.owners = align_up(o.page_meta + g.page_count() * sizeof(PageMeta));
  o.masks = align_up(o.owners + std::uint64_t{slots} * sizeof(std::uint32_t));
  o.attachment = align_up(o.masks + std::uint64_t{slots} * g.raw_page_size());
  o.total = align_up(o.attachment + attachment_size);
  return o;
}

}  // namespace vmodem::nand::layout
