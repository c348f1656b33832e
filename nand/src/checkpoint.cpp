#include "checkpoint.hpp"

#include <algorithm>
#include <cassert>
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
  // A block's page metadata is contiguous.
  const PageMeta* first = &std::as_const(*storage_).page_meta({block, 0});
  page_metas_.insert(page_metas_.end(), first, first + ppb_);
}

std::uint8_t* Checkpoint::take_bytes(std::size_t n, std::uint32_t& offset) {
  if (bytes_used_ + n > bytes_capacity_) {
    const std::size_t capacity = std::max(2 * bytes_capacity_, bytes_used_ + n);
    auto grown = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    if (bytes_used_) std::memcpy(grown.get(), bytes_.get(), bytes_used_);
    bytes_ = std::move(grown);
    bytes_capacity_ = capacity;
  }
  offset = static_cast<std::uint32_t>(bytes_used_);
  bytes_used_ += n;
  return bytes_.get() + offset;
}

void Checkpoint::save_page(PageAddr addr) {
  page_saved_[index(addr)] = 1;
  SavedPage saved{addr};
  const std::uint8_t* mask = std::as_const(*storage_).deviation(addr);
  if (known_erased(addr)) {
    saved.erased = true;
  } else {
    storage_->read_cells(addr, 0, {take_bytes(raw_, saved.cells), raw_});
  }
  if (mask) {
    std::uint32_t at = 0;
    std::memcpy(take_bytes(raw_, at), mask, raw_);
    saved.mask = at;
  }
  pages_.push_back(saved);
}

void Checkpoint::touch_block(std::uint32_t block) {
  if (!active_) return;
  for (std::uint32_t p = 0; p < ppb_; ++p)
    touch_page({block, p});
}

void Checkpoint::restore_metas() {
  for (std::size_t i = 0; i < meta_blocks_.size(); ++i) {
    const std::uint32_t block = meta_blocks_[i];
    meta_saved_[block] = 0;
    storage_->will_modify_meta(block);
    storage_->block_meta(block) = block_metas_[i];
    const PageMeta* saved = page_metas_.data() + i * ppb_;
    PageMeta* live = &storage_->page_meta({block, 0});
    if (std::memcmp(live, saved, ppb_ * sizeof(PageMeta)) == 0) continue;  // only read
    for (std::uint32_t p = 0; p < ppb_; ++p) {
      // The live slot stays: a page whose mask changed was saved and is
      // given its mask back in restore_pages; the others kept theirs.
      const std::uint32_t live_slot = live[p].deviation_slot;
      live[p] = saved[p];
      live[p].deviation_slot = live_slot;
    }
  }
}

bool Checkpoint::known_erased(PageAddr addr) const {
  // The chip's own rule (SimulatedChip::check_program): a page without a
  // program since its erase and without damage holds all ones. Reading its
  // cells to find out would cost a whole block's worth per erase.
  const PageMeta& meta = std::as_const(*storage_).page_meta(addr);
  const bool erased = meta.program_count == 0 && meta.deviation_slot == 0;
  assert(!erased || storage_->cells_erased(addr));
  return erased;
}

void Checkpoint::restore_pages() {
  for (const SavedPage& page : pages_) {
    page_saved_[index(page.addr)] = 0;
    if (page.erased && page.erased_now) continue;
    storage_->will_modify_data(page.addr.block);
    if (page.erased) {
      storage_->erase_page_cells(page.addr);
    } else {
      storage_->set_cells(page.addr, 0, {bytes_.get() + page.cells, raw_});
    }
    if (page.mask >= 0) {
      // The slots released first are free again, so this cannot run out.
      if (auto mask = storage_->deviation_acquire(page.addr)) {
        std::memcpy(*mask, bytes_.get() + page.mask, raw_);
      }
    }
  }
}

void Checkpoint::rollback() {
  if (!active_) return;
  // What follows changes the storage again: not into this checkpoint.
  active_ = false;
  // Pages erased then and now need no rewrite: known from the metadata
  // before it is restored.
  for (SavedPage& page : pages_)
    page.erased_now = page.erased && known_erased(page.addr);
  // Masks first: releasing them frees slots for the re-acquired ones.
  for (const SavedPage& page : pages_)
    storage_->deviation_release(page.addr);
  restore_metas();
  restore_pages();
  storage_->counters() = counters_;
  meta_blocks_.clear();
  block_metas_.clear();
  page_metas_.clear();
  pages_.clear();
  bytes_used_ = 0;
}

}  // namespace vmodem::nand
