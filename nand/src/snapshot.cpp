#include "snapshot.hpp"

#include <algorithm>
#include <cstring>

namespace vmodem::nand {

void SnapshotStore::begin() {
  end();
  const Geometry& g = storage_->geometry();
  saved_.resize(g.block_count);
  dirty_.assign(g.block_count, 0);
  ppb_ = g.pages_per_block;
  touched_.assign(std::size_t{g.block_count} * ppb_, 0);
  erased_page_.assign(g.raw_page_size(), 0xFF);
  counters_ = storage_->counters();
  active_ = true;
}

void SnapshotStore::end() {
  active_ = false;
  saved_.clear();
  dirty_.clear();
  dirty_list_.clear();
  touched_.clear();
  saved_count_ = 0;
}

void SnapshotStore::save(std::uint32_t block, bool with_data) {
  if (!dirty_[block]) {
    dirty_[block] = 1;
    dirty_list_.push_back(block);
  }
  auto& slot = saved_[block];
  if (!slot) {
    // First change since begin(): the block is still as it was at begin().
    slot = std::make_unique<SavedBlock>();
    ++saved_count_;
    const Geometry& g = storage_->geometry();
    slot->block_meta = storage_->block_meta(block);
    slot->page_meta.resize(g.pages_per_block);
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      slot->page_meta[p] = storage_->page_meta({block, p});
    }
  }
  // Cells and masks have not changed before the first save_data(), so
  // capturing them now still captures the rollback point.
  if (with_data && !slot->has_data) capture_data(block, *slot);
}

void SnapshotStore::capture_data(std::uint32_t block, SavedBlock& saved) {
  const Geometry& g = storage_->geometry();
  const std::uint32_t raw = g.raw_page_size();
  std::vector<std::uint8_t> page(raw);
  // Find the last page holding any programmed bit; pages above it are erased
  // and are restored by erasing rather than copying.
  std::uint32_t used = 0;
  for (std::uint32_t p = g.pages_per_block; p-- > 0;) {
    storage_->read_cells({block, p}, 0, page);
    if (std::any_of(page.begin(), page.end(), [](std::uint8_t b) { return b != 0xFF; })) {
      used = p + 1;
      break;
    }
  }
  saved.data_pages = used;
  saved.cells.resize(std::size_t{used} * raw);
  for (std::uint32_t p = 0; p < used; ++p) {
    storage_->read_cells({block, p}, 0, {saved.cells.data() + std::size_t{p} * raw, raw});
  }
  for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
    if (const std::uint8_t* mask = storage_->deviation({block, p})) {
      saved.mask_pages.push_back(p);
      saved.masks.insert(saved.masks.end(), mask, mask + raw);
    }
  }
  saved.has_data = true;
}

// One page's cells back to the rollback point (erased above the saved
// pages), and its saved mask re-acquired. Its live mask was released first.
// `erased_now`: its cells are erased (its block's erase was its last change).
void SnapshotStore::restore_page(PageAddr addr, const SavedBlock& saved, bool erased_now) {
  const std::uint32_t raw = storage_->geometry().raw_page_size();
  if (addr.page < saved.data_pages) {
    storage_->set_cells(addr, 0, {saved.cells.data() + std::size_t{addr.page} * raw, raw});
  } else if (!erased_now) {
    storage_->set_cells(addr, 0, {erased_page_.data(), raw});
  }
  const auto at = std::find(saved.mask_pages.begin(), saved.mask_pages.end(), addr.page);
  if (at == saved.mask_pages.end()) return;
  // The block's touched masks were all freed first, so a slot is available.
  if (auto mask = storage_->deviation_acquire(addr)) {
    const auto i = static_cast<std::size_t>(at - saved.mask_pages.begin());
    std::memcpy(*mask, saved.masks.data() + i * raw, raw);
  }
}

void SnapshotStore::restore(std::uint32_t block, const SavedBlock& saved) {
  const Geometry& g = storage_->geometry();
  std::uint8_t* touched = touched_.data() + std::size_t{block} * ppb_;
  // Page meta first (the live slot numbers kept: restore_page re-acquires the
  // masks of the pages it rewrites and sets them), then the touched pages.
  for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
    PageMeta& meta = storage_->page_meta({block, p});
    const std::uint32_t live_slot = meta.deviation_slot;
    meta = saved.page_meta[p];
    meta.deviation_slot = live_slot;
  }
  storage_->block_meta(block) = saved.block_meta;
  // Without saved data the cells and masks never changed (a caller that
  // changes them calls will_modify_data first).
  if (saved.has_data) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      if (touched[p] != kUntouched) storage_->deviation_release({block, p});
    }
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      if (touched[p] != kUntouched) restore_page({block, p}, saved, touched[p] == kErasedSince);
    }
  }
  // restore_page's own writes touched the pages again.
  std::fill_n(touched, ppb_, kUntouched);
}

void SnapshotStore::rollback() {
  if (!active_) return;
  for (const std::uint32_t block : dirty_list_) {
    restore(block, *saved_[block]);
    dirty_[block] = 0;
  }
  dirty_list_.clear();
  storage_->counters() = counters_;
}

}  // namespace vmodem::nand
