// PEBs: which one takes new data, erasing, wear-levelling, scrubbing and
// retiring bad ones.
#include <algorithm>
#include <string>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "ubi/peb_io.hpp"

namespace vmodem::nand::ubi {
namespace {

std::uint64_t erase_count_of(const PebInfo& info, std::uint64_t mean) {
  return info.erase_count.value_or(mean);
}

}  // namespace

std::uint32_t UbiDevice::bad_peb_limit() const {
  const std::uint64_t per_1024 = options_.bad_peb_limit_per_1024;
  return static_cast<std::uint32_t>((per_1024 * pebs_.size() + 1023) / 1024);
}

std::uint32_t UbiDevice::available_pebs() const {
  const std::uint32_t bad = count(PebState::bad);
  const std::uint32_t reserve_for_bad = bad < bad_peb_limit() ? bad_peb_limit() - bad : 0;
  // The layout volume's two, and one each that wear-levelling and atomic
  // LEB changes need to stand in while they copy (Linux's WL and EBA
  // reserves).
  std::uint64_t taken = std::uint64_t{bad} + kLayoutVolumeLebs + 2 + reserve_for_bad;
  for (const Volume& v : volumes_)
    taken += v.record.reserved_pebs;
  return taken >= pebs_.size() ? 0 : static_cast<std::uint32_t>(pebs_.size() - taken);
}

// The least-worn free PEB; without one, a PEB waiting for its erase (stale,
// corrupt, erased) is erased first.
Result<std::uint32_t> UbiDevice::take_free_peb() {
  for (;;) {
    std::optional<std::uint32_t> best;
    std::optional<std::uint32_t> erasable;
    for (std::uint32_t peb = 0; peb < pebs_.size(); ++peb) {
      const PebInfo& info = pebs_[peb];
      if (info.state == PebState::free &&
          (!best || erase_count_of(info, mean_ec_) < erase_count_of(pebs_[*best], mean_ec_)))
        best = peb;
      const bool waiting = info.state == PebState::stale || info.state == PebState::corrupt ||
                           info.state == PebState::erased;
      if (waiting && !erasable) erasable = peb;
    }
    if (best) {
      pebs_[*best].state = PebState::used;  // until the caller writes or retires it
      return *best;
    }
    if (!erasable) return fail(Errc::no_space, -1, -1, "UBI: no free PEB left");
    if (auto erased = erase_peb(*erasable); !erased) return tl::unexpected(erased.error());
  }
}

// Erases `peb` and writes its EC header with the counter one up. A block
// that fails is retired instead (not an error: the caller looks for another).
Status UbiDevice::erase_peb(std::uint32_t peb) {
  PebInfo& info = pebs_[peb];
  const std::uint64_t count = erase_count_of(info, mean_ec_) + 1;
  info.state = PebState::erased;
  if (auto erased = mtd_.erase(peb); !erased) {
    if (erased.error().code == Errc::erase_fail) return retire_peb(peb);
    return erased;
  }
  ++counters_.erases;
  info.erase_count.reset();
  const std::uint32_t page = mtd_.geometry().page_size;
  std::vector<std::uint8_t> bytes(page, 0xFF);
  const EcHeader ec{.version = kVersion,
                    .erase_count = count,
                    .vid_hdr_offset = layout_.vid_hdr_offset,
                    .data_offset = layout_.data_offset,
                    .image_seq = layout_.image_seq};
  encode(ec, std::span<std::uint8_t, kHeaderSize>(bytes.data(), kHeaderSize));
  if (auto programmed = mtd_.program({peb, 0}, bytes, {}); !programmed) {
    if (programmed.error().code == Errc::program_fail) return retire_peb(peb);
    return programmed;
  }
  info.state = PebState::free;
  info.erase_count = count;
  info.bitflips = false;
  info.vid = {};
  return {};
}

// A PEB whose LEB is gone: erased at once (Linux queues it for its
// background thread), then perhaps a wear-levelling move.
Status UbiDevice::release_peb(std::uint32_t peb) {
  pebs_[peb].state = PebState::stale;
  if (auto erased = erase_peb(peb); !erased) return erased;
  return wear_level();
}

Status UbiDevice::retire_peb(std::uint32_t peb) {
  if (auto marked = mtd_.mark_bad(peb); !marked) return marked;
  pebs_[peb].state = PebState::bad;
  ++counters_.bad_pebs;
  if (count(PebState::bad) > bad_peb_limit()) read_only_ = true;
  return {};
}

// Moves the LEB in `from` to `to` (or the least-worn free PEB) as a copy
// (copy_flag, data CRC), then erases `from`. A cut anywhere leaves the old
// copy or the new one current. A LEB that cannot be read whole stays put.
Status UbiDevice::move_leb(std::uint32_t from, std::optional<std::uint32_t> to) {
  const VidHeader old = pebs_[from].vid;
  Volume* v = volume(old.vol_id);
  if (!v || old.lnum >= v->eba.size() || v->eba[old.lnum] != from) return {};
  std::vector<std::uint8_t> data(layout_.leb_size);
  bool flips = false;
  if (auto read = PebIo(mtd_).read(from, layout_.data_offset, data, flips); !read) {
    if (read.error().code == Errc::uncorrectable) return {};
    return read;
  }
  // Static LEBs keep their exact size; a dynamic LEB is its pages up to the
  // last one written.
  std::size_t size = old.data_size;
  if (old.vol_type == VolumeType::dynamic) {
    const std::uint32_t page = mtd_.geometry().page_size;
    size = data.size();
    while (size > 0 && std::all_of(data.begin() + static_cast<std::ptrdiff_t>(size - page),
                                   data.begin() + static_cast<std::ptrdiff_t>(size),
                                   [](std::uint8_t b) { return b == 0xFF; }))
      size -= page;
  }
  data.resize(size);
  VidHeader vid = next_vid(*v, old.lnum);
  vid.copy_flag = true;
  vid.used_ebs = old.used_ebs;
  vid.data_size = static_cast<std::uint32_t>(size);
  vid.data_crc = crc32(data);
  moving_ = true;
  v->eba[old.lnum] = kUnmapped;
  Status moved;
  if (to && pebs_[*to].state == PebState::free) {
    pebs_[*to].state = PebState::used;
    moved = write_copy(*to, vid, data);
    if (moved) {
      pebs_[*to].vid = vid;
      v->eba[old.lnum] = *to;
    } else if (moved.error().code == Errc::program_fail) {
      moved = retire_peb(*to);
    }
  } else if (auto placed = place_leb(*v, old.lnum, vid, data); !placed) {
    moved = tl::unexpected(placed.error());
  }
  moving_ = false;
  if (!moved) return moved;
  if (v->eba[old.lnum] == kUnmapped) {  // the copy failed: the old one stays
    v->eba[old.lnum] = from;
    return {};
  }
  pebs_[from].state = PebState::stale;
  return erase_peb(from);
}

// When the most-worn free PEB is wl_threshold erases ahead of the least-worn
// PEB holding data, that data (likely never rewritten) moves onto it, so the
// little-worn PEB joins the ones taking new writes.
Status UbiDevice::wear_level() {
  if (moving_) return {};
  std::optional<std::uint32_t> coldest;
  std::optional<std::uint32_t> most_worn_free;
  for (std::uint32_t peb = 0; peb < pebs_.size(); ++peb) {
    const PebInfo& info = pebs_[peb];
    const std::uint64_t ec = erase_count_of(info, mean_ec_);
    if (info.state == PebState::used &&
        (!coldest || ec < erase_count_of(pebs_[*coldest], mean_ec_)))
      coldest = peb;
    if (info.state == PebState::free &&
        (!most_worn_free || ec > erase_count_of(pebs_[*most_worn_free], mean_ec_)))
      most_worn_free = peb;
  }
  if (!coldest || !most_worn_free) return {};
  const std::uint64_t hot = erase_count_of(pebs_[*most_worn_free], mean_ec_);
  const std::uint64_t cold = erase_count_of(pebs_[*coldest], mean_ec_);
  if (hot < cold + options_.wl_threshold) return {};
  ++counters_.wear_moves;
  return move_leb(*coldest, *most_worn_free);
}

// ECC corrected bits on the way: the charge is fading, so the LEB moves to a
// fresh PEB before the errors outgrow the ECC (Linux's scrubbing).
Status UbiDevice::after_read(std::uint32_t peb, bool flips) {
  if (!flips || moving_ || read_only_) return {};
  ++counters_.scrubs;
  return move_leb(peb, std::nullopt);
}

}  // namespace vmodem::nand::ubi
