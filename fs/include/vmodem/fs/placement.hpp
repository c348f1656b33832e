// Where a file system's pages are on flash: the superblock, each object's
// newest header, each file's data chunks, block by block.
//
// For the people and tests that damage a partition on purpose to reproduce
// a boot probe point (SPEC §4) — "make the superblock unreadable", "lose the
// block holding this directory's header" — and for field analysis of an
// image. The map comes from a read-only scan (nothing is written); it fails
// when the scan itself fails (no readable superblock, power loss).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <vmodem/fs/config.hpp>
#include <vmodem/fs/errors.hpp>
#include <vmodem/nand/device.hpp>

namespace vmodem::fs {

enum class PageRole : std::uint8_t { superblock, header, data };

// One live page: what the index holds it for.
struct LivePage {
  std::uint32_t page = 0;  // page in its block
  PageRole role = PageRole::data;
  std::uint32_t object = 0;  // 0 for the superblock
  std::uint32_t chunk = 0;   // data: chunk index in the file
  bool directory = false;    // header: of a directory
  std::string path;          // the object's path ("" for the superblock)
};

struct BlockPlacement {
  std::uint32_t block = 0;     // partition (logical) block
  bool bad = false;            // factory or grown bad (skipped by the scan)
  std::uint32_t written = 0;   // pages programmed from page 0 (0: erased)
  std::vector<LivePage> live;  // live pages, by page number
};

struct Placement {
  std::uint32_t pages_per_block = 0;
  std::vector<BlockPlacement> blocks;  // one per block of the partition
  std::uint32_t superblock_block = 0, superblock_page = 0;
};

// Read-only scan of `device` (the file system's partition). Errors:
// check_failed when no superblock can be read, power_loss.
Result<Placement> map_pages(nand::Device& device, const Config& config);

}  // namespace vmodem::fs
