#include <algorithm>

#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/stats.hpp>

namespace vmodem::nand {

namespace {

AreaStats area_stats(const Storage& storage, std::string name, std::uint32_t first,
                     std::uint32_t count) {
  AreaStats area;
  area.name = std::move(name);
  area.first_block = first;
  area.block_count = count;
  area.min_erase = ~0U;
  std::uint64_t erase_sum = 0;
  for (std::uint32_t b = first; b < first + count; ++b) {
    const BlockMeta& meta = storage.block_meta(b);
    area.reads += meta.reads;
    area.programs += meta.programs;
    area.erases += meta.erase_count;
    erase_sum += meta.erase_count;
    area.min_erase = std::min(area.min_erase, meta.erase_count);
    area.max_erase = std::max(area.max_erase, meta.erase_count);
    if (meta.flags & kFactoryBad) {
      ++area.factory_bad;
    } else if (meta.flags & (kFailed | kMarkedBad)) {
      ++area.grown_bad;
    }
  }
  if (count == 0) area.min_erase = 0;
  area.mean_erase = count ? static_cast<double>(erase_sum) / count : 0;
  return area;
}

std::vector<WearBucket> wear_histogram(const Storage& storage, std::uint32_t buckets) {
  const std::uint32_t blocks = storage.geometry().block_count;
  std::uint32_t max_erase = 0;
  for (std::uint32_t b = 0; b < blocks; ++b) {
    max_erase = std::max(max_erase, storage.block_meta(b).erase_count);
  }
  buckets = std::max(1U, buckets);
  const std::uint32_t width = max_erase / buckets + 1;
  std::vector<WearBucket> histogram;
  for (std::uint32_t i = 0; i < buckets && i * width <= max_erase; ++i) {
    histogram.push_back({i * width, i * width + width - 1, 0});
  }
  for (std::uint32_t b = 0; b < blocks; ++b) {
    ++histogram[storage.block_meta(b).erase_count / width].blocks;
  }
  return histogram;
}

}  // namespace

DeviceStats collect_stats(const Storage& storage, const PartitionTable* table,
                          std::uint32_t buckets) {
  const Geometry& g = storage.geometry();
  DeviceStats stats;
  stats.geometry = g;
  stats.counters = storage.counters();
  std::uint32_t cursor = 0;
  std::vector<PartitionSpec> specs = table ? table->entries() : std::vector<PartitionSpec>{};
  std::sort(specs.begin(), specs.end(),
            [](const auto& a, const auto& b) { return a.first_block < b.first_block; });
  for (const auto& spec : specs) {
    if (spec.first_block > cursor) {
      stats.areas.push_back(
          area_stats(storage, "(unpartitioned)", cursor, spec.first_block - cursor));
    }
    stats.areas.push_back(area_stats(storage, spec.name, spec.first_block, spec.block_count));
    cursor = spec.end_block();
  }
  if (cursor < g.block_count) {
    stats.areas.push_back(area_stats(storage, specs.empty() ? "(chip)" : "(unpartitioned)", cursor,
                                     g.block_count - cursor));
  }
  for (const auto& area : stats.areas) {
    stats.factory_bad += area.factory_bad;
    stats.grown_bad += area.grown_bad;
  }
  stats.wear = wear_histogram(storage, buckets);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      const PageMeta& meta = storage.page_meta({b, p});
      if (meta.deviation_slot != 0) ++stats.damaged_pages;
      if (meta.flags & kUnstable) ++stats.unstable_pages;
    }
  }
  return stats;
}

Result<std::vector<std::uint32_t>> manufacture_bad_blocks(SimulatedChip& chip,
                                                          const FactoryBadBlocks& spec) {
  const std::uint32_t blocks = chip.geometry().block_count;
  std::vector<std::uint32_t> chosen = spec.blocks;
  if (chosen.empty() && spec.count > 0) {
    if (spec.count >= blocks) {
      return fail(Errc::invalid_argument, -1, -1, "more factory bad blocks than blocks");
    }
    Rng rng(spec.seed);
    while (chosen.size() < spec.count) {
      const auto b = static_cast<std::uint32_t>(1 + rng.below(blocks - 1));
      if (std::find(chosen.begin(), chosen.end(), b) == chosen.end()) chosen.push_back(b);
    }
  }
  if (chosen.size() > spec.max_allowed) {
    return fail(Errc::invalid_argument, -1, -1,
                std::to_string(chosen.size()) +
                    " factory bad blocks exceed the datasheet limit of " +
                    std::to_string(spec.max_allowed));
  }
  for (const std::uint32_t b : chosen) {
    if (b >= blocks) return fail(Errc::out_of_range, b, -1, "factory bad block beyond the chip");
  }
  std::sort(chosen.begin(), chosen.end());
  for (const std::uint32_t b : chosen)
    chip.manufacture_bad_block(b);
  return chosen;
}

}  // namespace vmodem::nand
