// Statistics of a device: operations by kind and partition, wear, bad blocks,
// ECC activity. Computed from the persistent metadata, so `vmodem image stats`
// on a closed image reports the module's whole life.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::nand {

struct AreaStats {
  std::string name;  // partition name, or "(unpartitioned)"
  std::uint32_t first_block = 0, block_count = 0;
  std::uint64_t reads = 0, programs = 0, erases = 0;
  std::uint32_t factory_bad = 0, grown_bad = 0;
  std::uint32_t min_erase = 0, max_erase = 0;
  double mean_erase = 0;
};

struct WearBucket {
  std::uint32_t erase_count_from;  // inclusive
  std::uint32_t erase_count_to;    // inclusive
  std::uint32_t blocks;
};

struct DeviceStats {
  Geometry geometry;
  DeviceCounters counters;
  std::vector<AreaStats> areas;  // one per partition, plus gaps
  std::vector<WearBucket> wear;  // histogram of per-block erase counts
  std::uint32_t factory_bad = 0, grown_bad = 0;
  std::uint32_t damaged_pages = 0;  // pages carrying bit errors or torn cells
  std::uint32_t unstable_pages = 0;
};

// `table` may be null (the whole chip is one area). `buckets` >= 1.
DeviceStats collect_stats(const Storage& storage, const PartitionTable* table,
                          std::uint32_t buckets = 10);

// Factory bad blocks chosen at manufacture: an explicit list, or `count`
// blocks drawn from `seed` (never block 0, which boot ROMs require good).
struct FactoryBadBlocks {
  std::vector<std::uint32_t> blocks;
  std::uint32_t count = 0;
  std::uint64_t seed = 0;
  std::uint32_t max_allowed = 20;  // datasheet limit per chip
};

class SimulatedChip;
// Marks the factory bad blocks on a fresh chip. invalid_argument when more
// than max_allowed, or a block out of range; returns the blocks marked.
Result<std::vector<std::uint32_t>> manufacture_bad_blocks(SimulatedChip& chip,
                                                          const FactoryBadBlocks& spec);

}  // namespace vmodem::nand
