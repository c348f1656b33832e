#include <algorithm>

#include <vmodem/nand/partition.hpp>

namespace vmodem::nand {

Result<PartitionTable> PartitionTable::create(std::vector<PartitionSpec> specs,
                                              const Geometry& chip) {
  std::vector<const PartitionSpec*> sorted;
  for (const auto& spec : specs) {
    if (spec.name.empty()) return fail(Errc::invalid_argument, -1, -1, "partition without a name");
    if (spec.block_count == 0) {
      return fail(Errc::invalid_argument, -1, -1, "partition '" + spec.name + "' has no blocks");
    }
    if (spec.end_block() > chip.block_count || spec.end_block() < spec.first_block) {
      return fail(Errc::invalid_argument, -1, -1,
                  "partition '" + spec.name + "' (blocks " + std::to_string(spec.first_block) +
                      ".." + std::to_string(spec.end_block() - 1) + ") does not fit a chip of " +
                      std::to_string(chip.block_count) + " blocks");
    }
    sorted.push_back(&spec);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first_block < b->first_block; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->first_block < sorted[i - 1]->end_block()) {
      return fail(Errc::invalid_argument, -1, -1,
                  "partitions '" + sorted[i - 1]->name + "' and '" + sorted[i]->name + "' overlap");
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    for (std::size_t j = i + 1; j < specs.size(); ++j) {
      if (specs[i].name == specs[j].name) {
        return fail(Errc::invalid_argument, -1, -1,
                    "partition '" + specs[i].name + "' named twice");
      }
    }
  }
  PartitionTable table;
  table.specs_ = std::move(specs);
  return table;
}

const PartitionSpec* PartitionTable::find(std::string_view name) const {
  for (const auto& spec : specs_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const PartitionSpec* PartitionTable::containing(std::uint32_t physical_block) const {
  for (const auto& spec : specs_) {
    if (physical_block >= spec.first_block && physical_block < spec.end_block()) return &spec;
  }
  return nullptr;
}

Partition::Partition(Device& device, PartitionSpec spec)
    : device_(device), spec_(std::move(spec)), geometry_(device.geometry()) {}

Result<std::unique_ptr<Partition>> Partition::open(Device& device, const PartitionSpec& spec) {
  if (spec.end_block() > device.geometry().block_count) {
    return fail(Errc::out_of_range, -1, -1, "partition '" + spec.name + "' beyond the chip");
  }
  std::unique_ptr<Partition> partition(new Partition(device, spec));
  if (auto ok = partition->rescan(); !ok) return tl::unexpected(ok.error());
  return partition;
}

Status Partition::rescan() {
  map_.clear();
  bad_.clear();
  for (std::uint32_t b = spec_.first_block; b < spec_.end_block(); ++b) {
    auto bad = device_.is_bad(b);
    if (!bad) return tl::unexpected(bad.error());
    if (*bad) {
      bad_.push_back(b);
    } else {
      map_.push_back(b);
    }
  }
  geometry_.block_count = static_cast<std::uint32_t>(map_.size());
  return {};
}

Status Partition::check(std::uint32_t logical) const {
  if (logical >= map_.size()) {
    return fail(
        Errc::out_of_range, logical, -1,
        "partition '" + spec_.name + "' has " + std::to_string(map_.size()) + " usable blocks");
  }
  return {};
}

Result<ReadInfo> Partition::read(PageAddr addr, std::span<std::uint8_t> main,
                                 std::span<std::uint8_t> spare) {
  if (auto ok = check(addr.block); !ok) return tl::unexpected(ok.error());
  return device_.read(physical(addr), main, spare);
}

Result<ReadInfo> Partition::read_column(PageAddr addr, std::uint32_t column,
                                        std::span<std::uint8_t> out) {
  if (auto ok = check(addr.block); !ok) return tl::unexpected(ok.error());
  return device_.read_column(physical(addr), column, out);
}

Status Partition::program(PageAddr addr, std::span<const std::uint8_t> main,
                          std::span<const std::uint8_t> spare) {
  if (auto ok = check(addr.block); !ok) return ok;
  return device_.program(physical(addr), main, spare);
}

Status Partition::program_partial(PageAddr addr, std::uint32_t column,
                                  std::span<const std::uint8_t> bytes) {
  if (auto ok = check(addr.block); !ok) return ok;
  return device_.program_partial(physical(addr), column, bytes);
}

Status Partition::erase(std::uint32_t block) {
  if (auto ok = check(block); !ok) return ok;
  return device_.erase(map_[block]);
}

Result<bool> Partition::is_bad(std::uint32_t block) {
  if (auto ok = check(block); !ok) return tl::unexpected(ok.error());
  return device_.is_bad(map_[block]);
}

Status Partition::mark_bad(std::uint32_t block) {
  if (auto ok = check(block); !ok) return ok;
  if (auto ok = device_.mark_bad(map_[block]); !ok) return ok;
  if (std::find(bad_.begin(), bad_.end(), map_[block]) == bad_.end()) bad_.push_back(map_[block]);
  return {};
}

Result<PartitionErased> erase_every_block(Partition& partition) {
  PartitionErased out;
  for (std::uint32_t block = 0; block < partition.geometry().block_count; ++block) {
    auto erased = partition.erase(block);
    if (erased) {
      ++out.erased;
      continue;
    }
    if (erased.error().code != Errc::erase_fail) return tl::unexpected(erased.error());
    (void)partition.mark_bad(block);
    ++out.failed;
  }
  return out;
}

}  // namespace vmodem::nand
