// A small RAM chip for tests: 32 blocks of 64 pages of 2048+64 bytes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::nand::testing {

inline Geometry small_geometry(std::uint32_t blocks = 32) {
  Geometry g;
  g.block_count = blocks;
  return g;
}

inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> bytes(size);
  Rng rng(seed);
  for (auto& b : bytes)
    b = static_cast<std::uint8_t>(rng.next());
  return bytes;
}

// Everything observable about a device, for exact comparisons.
inline std::string fingerprint(const Storage& storage) {
  const Geometry& g = storage.geometry();
  std::string out;
  std::vector<std::uint8_t> cells(g.raw_page_size());
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    const BlockMeta& bm = storage.block_meta(b);
    out.append(reinterpret_cast<const char*>(&bm), sizeof bm);
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      storage.read_cells({b, p}, 0, cells);
      out.append(cells.begin(), cells.end());
      PageMeta pm = storage.page_meta({b, p});
      pm.deviation_slot = pm.deviation_slot ? 1 : 0;  // slot numbers may differ
      out.append(reinterpret_cast<const char*>(&pm), sizeof pm);
      if (const std::uint8_t* mask = storage.deviation({b, p}))
        out.append(mask, mask + g.raw_page_size());
    }
  }
  const DeviceCounters& c = storage.counters();
  out.append(reinterpret_cast<const char*>(&c), sizeof c);
  return out;
}

struct ChipFixture : ::testing::Test {
  explicit ChipFixture(ChipConfig config = {}, Geometry geometry = small_geometry()) {
    storage = std::move(Storage::create_in_memory(geometry).value());
    chip = std::make_unique<SimulatedChip>(*storage, config);
  }
  const Geometry& g() const { return storage->geometry(); }
  std::vector<std::uint8_t> main_buf() const { return std::vector<std::uint8_t>(g().page_size); }
  std::vector<std::uint8_t> spare_buf() const { return std::vector<std::uint8_t>(g().spare_size); }
  // Spare area with the bad-block marker bytes left erased.
  std::vector<std::uint8_t> spare_pattern(std::uint32_t seed) const {
    auto spare = pattern(g().spare_size, seed);
    spare[0] = spare[1] = 0xFF;
    return spare;
  }
  std::unique_ptr<Storage> storage;
  std::unique_ptr<SimulatedChip> chip;
};

// A campaign case over a RAM chip of `blocks` blocks, every cut replayable
// or branched: the subclass sets the flash up in its constructor (then calls
// start()), and writes act() and verify(). Rewinding goes back to start();
// each cut is seeded from `seed` and the operation, branched or replayed.
class ChipBranchingCase : public campaign::BranchingCase {
 public:
  ChipBranchingCase(std::uint32_t blocks, std::uint64_t seed)
      : seed_(seed),
        storage_(Storage::create_in_memory(small_geometry(blocks)).value()),
        chip_(*storage_, {}),
        injector_(chip_, nullptr, seed) {}
  FaultInjector& injector() override { return injector_; }
  void rewind() override {
    storage_->snapshot_rollback();
    chip_.power_up();
    injector_.clear_rules();
    injector_.reset_operation_count();
    injector_.reseed(seed_);
  }
  void arm(const campaign::CutPoint& point) override {
    injector_.reseed(Rng::mix(seed_, point.operation));
    BranchingCase::arm(point);
  }
  void branch_enter(const campaign::CutPoint& point) override {
    storage_->checkpoint_begin();
    injector_.reseed(Rng::mix(seed_, point.operation));
  }
  void branch_leave() override {
    storage_->checkpoint_rollback();
    chip_.power_up();
  }

 protected:
  // The flash as it is now is where every run starts.
  void start() { storage_->snapshot_begin(); }

  std::uint64_t seed_;
  std::unique_ptr<Storage> storage_;
  SimulatedChip chip_;
  FaultInjector injector_;
};

}  // namespace vmodem::nand::testing
