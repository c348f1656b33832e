// The backup data partition: tagged image pages (see backup_data.hpp).
#include "backup_data.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/partition.hpp>

#include "backup_records.hpp"

namespace vmodem::fs::backup_detail {

namespace {

constexpr std::uint32_t kTagOffset = nand::kBadBlockMarkerBytes;

// False for a spare area too small to hold a tag: nothing is read past it.
bool decode_tag(const std::vector<std::uint8_t>& spare, DataTag& tag) {
  if (spare.size() < kDataTagEnd) return false;
  std::memcpy(&tag, spare.data() + kTagOffset, sizeof tag);
  return tag.magic == kDataMagic &&
         tag.tag_crc == crc32({spare.data() + kTagOffset, offsetof(DataTag, tag_crc)});
}

// The caller checked the spare area's size (BackupEngine::open refuses less).
void encode_tag(DataTag tag, std::vector<std::uint8_t>& spare) {
  tag.magic = kDataMagic;
  std::fill(spare.begin(), spare.end(), 0xFF);
  std::memcpy(spare.data() + kTagOffset, &tag, sizeof tag);
  tag.tag_crc = crc32({spare.data() + kTagOffset, offsetof(DataTag, tag_crc)});
  std::memcpy(spare.data() + kTagOffset, &tag, sizeof tag);
}

}  // namespace

std::uint32_t hidden_bad_blocks(const nand::Device& device) {
  const auto* partition = dynamic_cast<const nand::Partition*>(&device);
  return partition ? partition->spec().block_count - partition->geometry().block_count : 0;
}

std::uint32_t blocks_for(const nand::Geometry& g, std::size_t bytes) {
  const auto block = g.block_bytes();
  return static_cast<std::uint32_t>(std::max<std::size_t>(1, (bytes + block - 1) / block));
}

Result<DataScan> scan_data(nand::Device& device, std::uint32_t generation) {
  const auto& g = device.geometry();
  DataScan scan;
  scan.bad = hidden_bad_blocks(device);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> found;  // (seq, block)
  std::vector<std::uint8_t> spare(g.spare_size);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    auto bad = device.is_bad(b);
    if (!bad && bad.error().code == nand::Errc::power_loss)
      return tl::unexpected(from_nand(bad.error(), "data scan"));
    if (!bad || *bad) {
      ++scan.bad;
      continue;
    }
    scan.good.push_back(b);
    auto r = device.read({b, 0}, {}, spare);
    if (!r) {
      if (r.error().code == nand::Errc::power_loss)
        return tl::unexpected(from_nand(r.error(), "data scan"));
      continue;
    }
    DataTag tag;
    if (decode_tag(spare, tag) && tag.generation == generation) found.emplace_back(tag.seq, b);
  }
  std::sort(found.begin(), found.end());
  for (const auto& [seq, block] : found)
    scan.image.push_back(block);
  return scan;
}

Result<WriteResult> write_image(nand::Device& device, const std::vector<std::uint8_t>& image,
                                std::uint32_t generation,
                                const std::vector<std::uint32_t>& candidates) {
  const auto& g = device.geometry();
  const std::uint32_t nblocks = blocks_for(g, image.size());
  WriteResult out;
  std::vector<std::uint8_t> main(g.page_size), spare(g.spare_size);
  std::size_t next = 0;
  for (std::uint32_t i = 0; i < nblocks;) {
    if (next >= candidates.size()) return fail(Errc::no_space, "backup data: out of good blocks");
    const std::uint32_t block = candidates[next++];
    bool failed = false;
    if (auto e = device.erase(block); !e) {
      if (e.error().code == nand::Errc::power_loss)
        return tl::unexpected(from_nand(e.error(), "data erase"));
      failed = true;
    }
    for (std::uint32_t p = 0; !failed && p < g.pages_per_block; ++p) {
      const std::size_t offset = std::size_t{i} * g.block_bytes() + std::size_t{p} * g.page_size;
      if (offset >= image.size() && !(i == 0 && p == 0)) break;  // an empty image still has page 0
      const std::size_t len =
          std::min<std::size_t>(g.page_size, image.size() - std::min(offset, image.size()));
      std::fill(main.begin(), main.end(), 0xFF);
      std::memcpy(main.data(), image.data() + std::min(offset, image.size()), len);
      DataTag tag{kDataMagic,
                  generation,
                  i * g.pages_per_block + p,
                  static_cast<std::uint32_t>(len),
                  crc32({main.data(), len}),
                  0};
      encode_tag(tag, spare);
      if (auto w = device.program({block, p}, main, spare); !w) {
        if (w.error().code == nand::Errc::power_loss)
          return tl::unexpected(from_nand(w.error(), "data program"));
        failed = true;
      }
    }
    if (failed) {
      (void)device.mark_bad(block);  // FAIL blocks read as bad anyway
      ++out.failed;
      continue;  // same part of the image, next candidate
    }
    out.blocks.push_back(block);
    ++i;
  }
  return out;
}

Result<std::vector<std::uint8_t>> read_image(nand::Device& device, std::uint32_t generation,
                                             std::uint32_t bytes, std::uint32_t crc) {
  const auto& g = device.geometry();
  auto scan = scan_data(device, generation);
  if (!scan) return tl::unexpected(scan.error());
  const std::uint32_t nblocks = blocks_for(g, bytes);
  if (scan->image.size() != nblocks)
    return fail(Errc::corrupt, "backup data: found " + std::to_string(scan->image.size()) +
                                   " image blocks, expected " + std::to_string(nblocks));
  std::vector<std::uint8_t> image;
  image.reserve(bytes);
  std::vector<std::uint8_t> main(g.page_size), spare(g.spare_size);
  for (std::uint32_t i = 0; i < nblocks; ++i) {
    for (std::uint32_t p = 0; p < g.pages_per_block && (image.size() < bytes || (i == 0 && p == 0));
         ++p) {
      auto r = device.read({scan->image[i], p}, main, spare);
      if (!r) {
        if (r.error().code == nand::Errc::power_loss)
          return tl::unexpected(from_nand(r.error(), "data read"));
        return fail(Errc::corrupt, "backup data: unreadable page");
      }
      DataTag tag;
      if (!decode_tag(spare, tag) || tag.generation != generation ||
          tag.seq != i * g.pages_per_block + p || tag.length > g.page_size ||
          tag.crc != crc32({main.data(), tag.length}))
        return fail(Errc::corrupt, "backup data: page tag or CRC mismatch");
      image.insert(image.end(), main.begin(), main.begin() + tag.length);
    }
  }
  if (image.size() != bytes || crc32(image) != crc)
    return fail(Errc::corrupt, "backup data: image length or CRC mismatch");
  return image;
}

}  // namespace vmodem::fs::backup_detail
