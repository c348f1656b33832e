// A short-lived, page-granular rollback point of a Storage, nested inside
// (or without) the block-granular snapshot (snapshot.hpp).
//
// Made for crash-state exploration: a campaign runs an operation once and,
// before each of its NAND operations, branches off: checkpoint, cut the
// power at that operation, boot, verify, roll back, and let the operation go
// on. A branch changes few pages (the torn page, a boot counter record, a
// relocated page) but reads many; so the checkpoint saves a page's cells and
// deviation mask the first time it changes, and a block's metadata (read
// counters, page program counts) the first time it changes. Rolling back
// costs what the branch changed: an erased block costs its programmed pages.
//
// The snapshot underneath sees every change the branch and the roll-back
// make, as any other change: it stays exact.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <vmodem/nand/storage.hpp>

namespace vmodem::nand {

class Checkpoint {
 public:
  void attach(Storage& storage) { storage_ = &storage; }
  bool active() const { return active_; }
  // The state now becomes the rollback point.
  void begin();
  // Back to the rollback point; the checkpoint ends.
  void rollback();

  // Called by Storage before the change (as with SnapshotStore).
  void save_meta(std::uint32_t block) {
    if (active_ && !meta_saved_[block]) save_block_meta(block);
  }
  void touch_page(PageAddr addr) {
    if (active_ && !page_saved_[index(addr)]) save_page(addr);
  }
  void touch_block(std::uint32_t block);

 private:
  struct SavedPage {
    PageAddr addr;
    bool erased = false;      // erased cells, no mask: nothing copied
    bool erased_now = false;  // at rollback: still erased
    std::uint32_t cells = 0;  // offset into bytes_ (unless erased)
    std::int64_t mask = -1;   // offset into bytes_, -1 without a mask
  };
  std::size_t index(PageAddr addr) const { return std::size_t{addr.block} * ppb_ + addr.page; }
  void save_block_meta(std::uint32_t block);
  void save_page(PageAddr addr);
  bool known_erased(PageAddr addr) const;
  void restore_metas();
  void restore_pages();

  Storage* storage_ = nullptr;
  bool active_ = false;
  std::uint32_t ppb_ = 0, raw_ = 0;
  DeviceCounters counters_{};
  std::vector<std::uint8_t> meta_saved_;  // per block
  std::vector<std::uint8_t> page_saved_;  // per page
  std::vector<std::uint32_t> meta_blocks_;
  std::vector<BlockMeta> block_metas_;
  std::vector<PageMeta> page_metas_;  // ppb_ per entry of meta_blocks_
  std::vector<SavedPage> pages_;
  // Saved cells and masks, raw_ bytes each. Not a vector: growing it would
  // zero bytes about to be overwritten, on every branch.
  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t bytes_used_ = 0, bytes_capacity_ = 0;
  std::uint8_t* take_bytes(std::size_t n, std::uint32_t& offset);
};

}  // namespace vmodem::nand
