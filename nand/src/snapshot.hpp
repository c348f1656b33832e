// Copy-on-write snapshot of a Storage, at block granularity.
//
// begin() records the device counters and nothing else. The first change to
// a block saves its metadata (save_meta) or its metadata, cells and deviation
// masks (save_data). rollback() restores the blocks changed since the last
// rollback and keeps the saved copies, which still describe the rollback
// point: a campaign that rolls back after every run pays only for the blocks
// each run touches.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <vmodem/nand/storage.hpp>

namespace vmodem::nand {

class SnapshotStore {
 public:
  void attach(Storage& storage) { storage_ = &storage; }
  bool active() const { return active_; }
  void begin();
  void rollback();
  void end();
  void save_meta(std::uint32_t block) {
    if (!dirty_.empty() && dirty_[block] && has_data(block)) return;
    save(block, false);
  }
  void save_data(std::uint32_t block) { save(block, true); }
  std::size_t saved_blocks() const { return saved_count_; }
  std::size_t dirty_blocks() const { return dirty_list_.size(); }

 private:
  struct SavedBlock {
    bool has_data = false;
    BlockMeta block_meta{};
    std::vector<PageMeta> page_meta;
    std::uint32_t data_pages = 0;           // pages [0, data_pages) saved; the rest were erased
    std::vector<std::uint8_t> cells;        // data_pages raw pages, un-inverted
    std::vector<std::uint32_t> mask_pages;  // pages that had a deviation mask
    std::vector<std::uint8_t> masks;        // their masks, raw page each
  };
  bool has_data(std::uint32_t block) const { return saved_[block] && saved_[block]->has_data; }
  void save(std::uint32_t block, bool with_data);
  void capture_data(std::uint32_t block, SavedBlock& saved);
  void restore(std::uint32_t block, const SavedBlock& saved);

  Storage* storage_ = nullptr;
  bool active_ = false;
  DeviceCounters counters_{};
  std::vector<std::unique_ptr<SavedBlock>> saved_;
  std::vector<std::uint8_t> dirty_;
  std::vector<std::uint32_t> dirty_list_;
  std::size_t saved_count_ = 0;
};

}  // namespace vmodem::nand
