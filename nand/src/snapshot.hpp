// Copy-on-write snapshot of a Storage: saved at block granularity, restored
// at page granularity.
//
// begin() records the device counters and nothing else. The first change to
// a block saves its metadata (save_meta) or its metadata, cells and deviation
// masks (save_data). rollback() restores the blocks changed since the last
// rollback and keeps the saved copies, which still describe the rollback
// point: a campaign that rolls back after every run pays only for the blocks
// each run touches.
//
// Within a block, only the pages whose cells or mask changed since the last
// rollback are rewritten (Storage reports each change through touch_page /
// touch_block): a run that programs one page of a block (an info record, a
// relocated page) costs one page to undo, not the whole block (64 pages,
// 135 KB). Pages not touched still hold exactly the rollback point's cells
// and mask, since every change of either goes through Storage. A page whose
// last change was its block's erase is known to be erased: if it was erased
// at the rollback point too, its cells need no rewrite.
#pragma once

#include <algorithm>
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
  // The cells or the deviation mask of a page (of every page of a block) are
  // about to change; called by Storage's cell and mask mutators.
  void touch_page(PageAddr addr) {
    if (active_) touched_[std::size_t{addr.block} * ppb_ + addr.page] = kChanged;
  }
  // The block is being erased: its pages are erased until touched again.
  void touch_block(std::uint32_t block) {
    if (active_) std::fill_n(touched_.begin() + std::size_t{block} * ppb_, ppb_, kErasedSince);
  }
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
  // touched_ values: untouched since the last rollback, changed, or erased
  // (by the block's erase) and not changed since.
  static constexpr std::uint8_t kUntouched = 0, kChanged = 1, kErasedSince = 2;

  bool has_data(std::uint32_t block) const { return saved_[block] && saved_[block]->has_data; }
  void save(std::uint32_t block, bool with_data);
  void capture_data(std::uint32_t block, SavedBlock& saved);
  void restore(std::uint32_t block, const SavedBlock& saved);
  void restore_page(PageAddr addr, const SavedBlock& saved, bool erased_now);

  Storage* storage_ = nullptr;
  bool active_ = false;
  DeviceCounters counters_{};
  std::vector<std::unique_ptr<SavedBlock>> saved_;
  std::vector<std::uint8_t> dirty_;
  std::vector<std::uint32_t> dirty_list_;
  std::uint32_t ppb_ = 0;
  std::vector<std::uint8_t> touched_;      // per page: cells or mask changed since rollback
  std::vector<std::uint8_t> erased_page_;  // one raw page of 0xFF
  std::size_t saved_count_ = 0;
};

}  // namespace vmodem::nand
