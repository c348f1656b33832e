// The backup data partition (private): the image written page by page.
//
// Layout: the image occupies whole blocks; image block i holds bytes
// [i * block_bytes, (i+1) * block_bytes) in its pages in order (the last page
// may be short, later pages of the last block stay erased). Each page's
// spare area carries a DataTag after the bad-block marker bytes: data
// generation (unique per backup attempt), sequence number of the page in the
// image, bytes used, CRC-32 of those bytes, CRC-32 of the tag. Blocks are
// found by reading page 0's spare of every good block, so nothing depends on
// the logical numbering of a partition staying the same across bad blocks.
#pragma once

#include <cstdint>
#include <vector>

#include <vmodem/fs/errors.hpp>
#include <vmodem/nand/device.hpp>

namespace vmodem::fs::backup_detail {

inline constexpr std::uint32_t kDataMagic = 0x444B4256;  // "VBKD"

struct DataTag {
  std::uint32_t magic;
  std::uint32_t generation;
  std::uint32_t seq;
  std::uint32_t length;
  std::uint32_t crc;
  std::uint32_t tag_crc;
};

// Spare bytes a data page needs: the bad-block marker, then the tag.
inline constexpr std::uint32_t kDataTagEnd = nand::kBadBlockMarkerBytes + sizeof(DataTag);

struct DataScan {
  std::vector<std::uint32_t> good;  // good blocks, ascending
  std::uint32_t bad = 0;
  // Blocks whose page 0 carries `generation`, ordered by sequence number.
  std::vector<std::uint32_t> image;
};

// Reads every block's marker and (good blocks) page 0's tag.
Result<DataScan> scan_data(nand::Device& device, std::uint32_t generation);

// Bad blocks a Partition skipped when it was opened (its logical blocks
// are the good ones only); 0 for any other device.
std::uint32_t hidden_bad_blocks(const nand::Device& device);

std::uint32_t blocks_for(const nand::Geometry& g, std::size_t bytes);

struct WriteResult {
  std::vector<std::uint32_t> blocks;  // where the image went
  std::uint32_t failed = 0;           // blocks retired while writing
};

// Writes `image` into blocks taken from `candidates` in order, erasing each
// first; a block that fails erase or program is marked bad and the same part
// of the image goes to the next candidate. Errors: power_loss, no_space
// (candidates exhausted).
Result<WriteResult> write_image(nand::Device& device, const std::vector<std::uint8_t>& image,
                                std::uint32_t generation,
                                const std::vector<std::uint32_t>& candidates);

// Reads the image of `generation` back and checks every tag, the length
// and the CRC. Errors: corrupt, power_loss.
Result<std::vector<std::uint8_t>> read_image(nand::Device& device, std::uint32_t generation,
                                             std::uint32_t bytes, std::uint32_t crc);

}  // namespace vmodem::fs::backup_detail
