// The log: page append, block allocation, reference counts, garbage
// collection, wear levelling, bad-block retirement and scrubbing.
#include <algorithm>
#include <cstring>

#include "volume.hpp"

namespace vmodem::fs {

Volume::Volume(nand::Device& device, const Config& config)
    : dev(device), cfg(config), geo(device.geometry()), ppb(geo.pages_per_block) {
  if (cfg.reserve_blocks == 0) cfg.reserve_blocks = 1;
  blocks.resize(geo.block_count);  // all free_unknown until scanned
  free_count = geo.block_count;
  pages.resize(std::size_t{geo.block_count} * ppb);
  scratch.resize(geo.page_size);
}

Error Volume::device_error(const nand::Error& error) {
  if (error.code == nand::Errc::power_loss) {
    dead = true;
    return Error{Errc::power_loss, error.message(), std::nullopt};
  }
  if (error.code == nand::Errc::uncorrectable) {
    return Error{Errc::corrupt, error.message(), std::nullopt};
  }
  return Error{Errc::io_error, error.message(), std::nullopt};
}

Status Volume::dead_error() const {
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  return {};
}

void Volume::ref(std::uint32_t idx) {
  if (idx == kNoPage) return;
  if (pages[idx].refs++ == 0) {
    ++blocks[idx / ppb].live;
    ++live_pages;
  }
}

void Volume::unref(std::uint32_t idx) {
  if (idx == kNoPage || pages[idx].refs == 0) return;
  if (--pages[idx].refs == 0) {
    --blocks[idx / ppb].live;
    --live_pages;
  }
}

namespace {
bool is_free(BlockUse u) {
  return u == BlockUse::free_clean || u == BlockUse::free_unknown;
}
}  // namespace

void Volume::set_use(std::uint32_t block, BlockUse use) {
  BlockUse& now = blocks[block].use;
  free_count += is_free(use) - is_free(now);
  bad_count += (use == BlockUse::bad) - (now == BlockUse::bad);
  now = use;
}

std::uint32_t Volume::free_blocks() const {
  return static_cast<std::uint32_t>(free_count);
}

std::uint32_t Volume::good_blocks() const {
  return static_cast<std::uint32_t>(blocks.size()) - bad_blocks();
}

std::uint32_t Volume::bad_blocks() const {
  return static_cast<std::uint32_t>(bad_count);
}

std::uint64_t Volume::usable_pages() const {
  const std::uint32_t good = good_blocks();
  return good > cfg.reserve_blocks ? std::uint64_t{good - cfg.reserve_blocks} * ppb : 0;
}

namespace {

// Forgets the pages of an erased (or retired) block: their objects lose a
// physical page, and a tombstone with nothing left to hide dies.
void release_pages(Volume& v, std::uint32_t block) {
  for (std::uint32_t p = 0; p < v.ppb; ++p) {
    PageState& page = v.pages[block * v.ppb + p];
    if (page.object != 0) {
      auto it = v.phys.find(page.object);
      if (it != v.phys.end() && --it->second <= 1) {
        auto ghost = v.ghosts.find(page.object);
        if (ghost != v.ghosts.end()) {  // only the tombstone itself is left
          v.unref(ghost->second.tomb);
          v.ghosts.erase(ghost);
        }
        if (it->second == 0) v.phys.erase(it);
      }
    }
    page = PageState{};
  }
  v.blocks[block].live = 0;
  v.blocks[block].written = 0;
}

// Moves every live page out of `block`, marks it bad and forgets it.
Status retire(Volume& v, std::uint32_t block) {
  if (v.active == block) v.active = kNoBlock;
  v.set_use(block, BlockUse::bad);
  ++v.counters.blocks_retired;
  Status first_error;
  for (std::uint32_t p = 0; p < v.blocks[block].written && p < v.ppb; ++p) {
    const std::uint32_t idx = block * v.ppb + p;
    if (v.pages[idx].refs == 0) continue;
    if (auto moved = v.relocate(idx); !moved) {
      if (moved.error().code == Errc::power_loss) return moved;
      if (first_error) first_error = moved;
    }
  }
  if (auto marked = v.dev.mark_bad(block); !marked) {
    if (marked.error().code == nand::Errc::power_loss) {
      return tl::unexpected(v.device_error(marked.error()));
    }
  }
  release_pages(v, block);
  return first_error;
}

// Erases a block whose pages are all dead. erase_fail retires it.
Status erase_block(Volume& v, std::uint32_t block) {
  auto erased = v.dev.erase(block);
  if (!erased) {
    if (erased.error().code != nand::Errc::erase_fail) {
      return tl::unexpected(v.device_error(erased.error()));
    }
    return retire(v, block);
  }
  ++v.counters.blocks_erased;
  release_pages(v, block);
  v.set_use(block, BlockUse::free_clean);
  ++v.blocks[block].erase_count;
  v.blocks[block].gc_skip = false;
  return {};
}

// Picks the least-worn free block, erases it if it is not known clean, and
// makes it the active block.
Status open_block(Volume& v) {
  for (;;) {
    std::uint32_t best = kNoBlock;
    for (std::uint32_t b = 0; b < v.blocks.size(); ++b) {
      const auto& s = v.blocks[b];
      if (s.use != BlockUse::free_clean && s.use != BlockUse::free_unknown) continue;
      if (best == kNoBlock || s.erase_count < v.blocks[best].erase_count) best = b;
    }
    if (best == kNoBlock) return fail(Errc::no_space, "no erased block left");
    if (v.blocks[best].use == BlockUse::free_unknown) {
      // Found erased at mount: a cut may have left it half-erased or marginal.
      if (auto ok = erase_block(v, best); !ok) return ok;
      if (v.blocks[best].use != BlockUse::free_clean) continue;  // retired
    }
    BlockState& s = v.blocks[best];
    v.set_use(best, BlockUse::active);
    s.seq = v.next_seq++;
    s.written = 0;
    s.live = 0;
    v.active = best;
    return {};
  }
}

}  // namespace

Result<std::uint32_t> Volume::append(layout::Tags tags, std::span<const std::uint8_t> main) {
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  std::uint8_t spare[nand::kMaxSpareSize];
  for (int attempt = 0; attempt < 16; ++attempt) {
    if (active != kNoBlock && blocks[active].written >= ppb) {
      set_use(active, BlockUse::sealed);
      active = kNoBlock;
    }
    if (active == kNoBlock) {
      if (auto ok = open_block(*this); !ok) return tl::unexpected(ok.error());
    }
    const std::uint32_t block = active;
    BlockState& s = blocks[block];
    const std::uint32_t page = s.written;
    tags.seq = s.seq;
    tags.erase_count = s.erase_count;
    layout::encode_tags(tags, {spare, geo.spare_size});
    auto programmed = dev.program({block, page}, main, {spare, geo.spare_size});
    s.written = page + 1;
    const std::uint32_t idx = block * ppb + page;
    if (programmed) {
      pages[idx] = PageState{tags.object, tags.chunk, tags.kind, 0};
      ++phys[tags.object];
      ++counters.pages_written;
      return idx;
    }
    if (programmed.error().code != nand::Errc::program_fail) {
      return tl::unexpected(device_error(programmed.error()));
    }
    if (auto ok = retire(*this, block); !ok) return tl::unexpected(ok.error());
  }
  return fail(Errc::io_error, "program failed on 16 blocks in a row");
}

Result<nand::ReadInfo> Volume::read_page(std::uint32_t idx, std::span<std::uint8_t> main,
                                         std::span<std::uint8_t> spare) {
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  ++counters.pages_read;
  auto info = dev.read(addr(idx), main, spare);
  if (!info) return tl::unexpected(device_error(info.error()));
  return *info;
}

Status Volume::maybe_scrub(std::uint32_t idx, const nand::ReadInfo& info) {
  if (read_only || info.max_sector_corrected < cfg.scrub_threshold_bits ||
      cfg.scrub_threshold_bits == 0 || pages[idx].refs == 0) {
    return {};
  }
  ++counters.pages_scrubbed;
  return relocate(idx);
}

namespace {

void repoint(std::vector<ChunkLoc>& map, std::uint32_t chunk, std::uint32_t from, std::uint32_t to,
             Volume& v) {
  if (chunk < map.size() && map[chunk].page == from) {
    map[chunk].page = to;
    v.ref(to);
    v.unref(from);
  }
}

}  // namespace

Status Volume::relocate(std::uint32_t idx) {
  std::vector<std::uint8_t> main(geo.page_size);
  std::uint8_t spare[nand::kMaxSpareSize];
  auto info = read_page(idx, main, {spare, geo.spare_size});
  if (!info) return tl::unexpected(info.error());
  layout::Tags tags;
  if (layout::decode_tags({spare, geo.spare_size}, geo.page_size, tags) !=
          layout::TagState::valid ||
      layout::page_checksum({main.data(), tags.bytes}) != tags.data_crc) {
    return fail(Errc::corrupt, "page " + std::to_string(idx) + " failed its checksum");
  }
  const PageState old = pages[idx];
  auto moved = append(tags, main);
  if (!moved) return tl::unexpected(moved.error());
  const std::uint32_t to = *moved;
  if (pages[idx].refs == 0) return {};  // the append retired this page's block meanwhile
  switch (old.kind) {
    case layout::Kind::data: {
      auto it = objects.find(old.object);
      if (it == objects.end()) break;
      repoint(it->second.chunks, old.chunk, idx, to, *this);
      if (it->second.dirty) repoint(it->second.wchunks, old.chunk, idx, to, *this);
      break;
    }
    case layout::Kind::header: {
      if (auto it = objects.find(old.object); it != objects.end() && it->second.header == idx) {
        it->second.header = to;
      } else if (auto g = ghosts.find(old.object); g != ghosts.end() && g->second.tomb == idx) {
        g->second.tomb = to;
      } else {
        break;
      }
      ref(to);
      unref(idx);
      break;
    }
    case layout::Kind::super:
      if (super_page == idx) {
        super_page = to;
        ref(to);
        unref(idx);
      }
      break;
  }
  return {};
}

namespace {

// The sealed block with the most reclaimable pages; every 16th run, when
// erase counts have spread too far, the coldest block holding live data.
std::uint32_t choose_victim(Volume& v) {
  std::uint32_t best = kNoBlock, coldest = kNoBlock, max_ec = 0;
  for (std::uint32_t b = 0; b < v.blocks.size(); ++b) {
    const auto& s = v.blocks[b];
    if (s.use == BlockUse::bad) continue;
    max_ec = std::max(max_ec, s.erase_count);
    if (s.use != BlockUse::sealed || s.gc_skip) continue;
    if (s.live < v.ppb && (best == kNoBlock || s.live < v.blocks[best].live)) best = b;
    if (coldest == kNoBlock || s.erase_count < v.blocks[coldest].erase_count) coldest = b;
  }
  if (coldest != kNoBlock && v.gc_runs % 16 == 0 &&
      max_ec - v.blocks[coldest].erase_count > v.cfg.wear_level_threshold && v.free_blocks() >= 2) {
    return coldest;
  }
  return best;
}

}  // namespace

Result<bool> Volume::gc_once() {
  ++gc_runs;
  const std::uint32_t victim = choose_victim(*this);
  if (victim == kNoBlock) return false;
  for (std::uint32_t p = 0; p < blocks[victim].written && p < ppb; ++p) {
    const std::uint32_t idx = victim * ppb + p;
    if (pages[idx].refs == 0) continue;
    if (auto moved = relocate(idx); !moved) {
      if (moved.error().code != Errc::corrupt) return tl::unexpected(moved.error());
      blocks[victim].gc_skip = true;  // a live page we cannot read: keep the block as it is
      return true;
    }
    ++counters.gc_pages_copied;
  }
  if (blocks[victim].use == BlockUse::bad) return true;  // retired while copying
  if (auto ok = erase_block(*this, victim); !ok) return tl::unexpected(ok.error());
  return true;
}

Status Volume::reserve(std::uint32_t n, bool meta) {
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  if (read_only) return fail(Errc::read_only, "mounted read-only");
  const std::uint64_t usable = usable_pages();
  const std::uint64_t keep = meta ? 0 : cfg.meta_reserve_pages;
  if (std::uint64_t{live_pages} + n + keep > usable) {
    return fail(Errc::no_space, "partition full");
  }
  auto free_pages = [&] {
    std::uint64_t f = std::uint64_t{free_blocks()} * ppb;
    if (active != kNoBlock) f += ppb - blocks[active].written;
    return f;
  };
  const std::uint64_t want = n + std::uint64_t{cfg.reserve_blocks} * ppb;
  while (free_pages() < want) {
    auto progress = gc_once();
    if (!progress) return tl::unexpected(progress.error());
    if (!*progress) break;
  }
  if (free_pages() < n + (meta ? 0 : ppb)) return fail(Errc::no_space, "no reclaimable space");
  return {};
}

}  // namespace vmodem::fs
