#include "checkpoint.hpp"

#include <cstring>
#include <utility>

namespace vmodem::nand {

void Checkpoint::begin() {
  const Geometry& g = storage_->geometry();
  ppb_ = g.pages_per_block;
  raw_ = g.raw_page_size();
  // Sized once; afterwards only the entries a branch set are cleared.
  if (meta_saved_.size() != g.block_count) {
    meta_saved_.assign(g.block_count, 0);
    page_saved_.assign(std::size_t{g.block_count} * ppb_, 0);
  }
  counters_ = storage_->counters();
  active_ = true;
}

void Checkpoint::save_block_meta(std::uint32_t block) {
  meta_saved_[block] = 1;
  meta_blocks_.push_back(block);
  block_metas_.push_back(storage_->block_meta(block));
  for (std::uint32_t p = 0; p < ppb_; ++p)
    page_metas_.push_back(storage_->page_meta({block, p}));
}

void Checkpoint::save_page(PageAddr addr) {
  page_saved_[index(addr)] = 1;
  const std::size_t at = cells_.size();
  cells_.resize(at + raw_);
  masks_.resize(at + raw_);
  storage_->read_cells(addr, 0, {cells_.data() + at, raw_});
  const std::uint8_t* mask = std::as_const(*storage_).deviation(addr);
  if (mask) std::memcpy(masks_.data() + at, mask, raw_);
  pages_.push_back({addr, mask != nullptr});
}

void Checkpoint::touch_block(std::uint32_t block) {
  if (!active_) return;
  for (std::uint32_t p = 0; p < ppb_; ++p)
    touch_page({block, p});
}

void Checkpoint::rollback() {
  if (!active_) return;
  // What follows changes the storage again: not into this checkpoint.
  active_ = false;
  // Masks first: releasing them frees slots for the re-acquired ones.
  for (const SavedPage& page : pages_)
    storage_->deviation_release(page.addr);
  for (std::size_t i = 0; i < meta_blocks_.size(); ++i) {
    const std::uint32_t block = meta_blocks_[i];
    storage_->will_modify_meta(block);
    storage_->block_meta(block) = block_metas_[i];
    for (std::uint32_t p = 0; p < ppb_; ++p) {
      // The live slot stays: a page whose mask changed was saved and is
      // given its mask back below; the others kept theirs.
      PageMeta& meta = storage_->page_meta({block, p});
      const std::uint32_t live_slot = meta.deviation_slot;
      meta = page_metas_[i * ppb_ + p];
      meta.deviation_slot = live_slot;
    }
    meta_saved_[block] = 0;
  }
  for (std::size_t i = 0; i < pages_.size(); ++i) {
    const SavedPage& page = pages_[i];
    storage_->will_modify_data(page.addr.block);
    storage_->set_cells(page.addr, 0, {cells_.data() + i * raw_, raw_});
    if (page.had_mask) {
      // The slots released above are free again, so this cannot run out.
      if (auto mask = storage_->deviation_acquire(page.addr)) {
        std::memcpy(*mask, masks_.data() + i * raw_, raw_);
      }
    }
    page_saved_[index(page.addr)] = 0;
  }
  storage_->counters() = counters_;
  meta_blocks_.clear();
  block_metas_.clear();
  page_metas_.clear();
  pages_.clear();
  cells_.clear();
  masks_.clear();
}

}  // namespace vmodem::nand
