// Attaching a UBI device: the scan of every PEB's headers, the choice of
// each LEB's current copy, and the volume table.
#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "ubi/peb_io.hpp"

namespace vmodem::nand::ubi {
const char* to_string(PebState state) {
  switch (state) {
    case PebState::bad:
      return "bad";
    case PebState::erased:
      return "erased";
    case PebState::free:
      return "free";
    case PebState::used:
      return "used";
    case PebState::stale:
      return "stale";
    case PebState::corrupt:
      return "corrupt";
  }
  return "?";
}

// One attach: two passes over the PEBs (EC headers, which fix the layout;
// then VID headers, which need it), then the volume table and the volumes.
class Attacher {
 public:
  explicit Attacher(UbiDevice& ubi) : ubi_(ubi), io_(ubi.mtd_) {}

  Status run() {
    const std::uint32_t blocks = ubi_.mtd_.geometry().block_count;
    ubi_.pebs_.assign(blocks, PebInfo{});
    for (std::uint32_t peb = 0; peb < blocks; ++peb)
      if (auto scanned = scan_ec(peb); !scanned) return scanned;
    if (ubi_.layout_.peb_size == 0) return {};  // no UBI header anywhere: unformatted
    for (std::uint32_t peb = 0; peb < blocks; ++peb)
      if (auto scanned = scan_vid(peb); !scanned) return scanned;
    settle_erase_counts();
    if (auto table = read_volume_table(); !table) return table;
    if (ubi_.count(PebState::bad) > ubi_.bad_peb_limit()) ubi_.read_only_ = true;
    return build_volumes();
  }

 private:
  using LebKey = std::pair<std::uint32_t, std::uint32_t>;  // volume, LEB

  Status scan_ec(std::uint32_t peb) {
    PebInfo& info = ubi_.pebs_[peb];
    auto bad = ubi_.mtd_.is_bad(peb);
    if (!bad) return tl::unexpected(bad.error());
    if (*bad) {
      info.state = PebState::bad;
      return {};
    }
    EcHeader ec;
    auto state = io_.read_header(peb, 0, ec, info.bitflips);
    if (!state) return tl::unexpected(state.error());
    if (*state == HeaderState::erased) {
      info.state = PebState::erased;
      return {};
    }
    info.state = PebState::corrupt;  // until its VID header says otherwise
    if (*state != HeaderState::valid) return {};
    info.erase_count = ec.erase_count;
    return settle_layout(peb, ec);
  }

  // Every EC header must describe the same device.
  Status settle_layout(std::uint32_t peb, const EcHeader& ec) {
    Layout& layout = ubi_.layout_;
    const Geometry& g = ubi_.mtd_.geometry();
    const std::uint32_t peb_size = g.pages_per_block * g.page_size;
    if (layout.peb_size == 0) {
      if (ec.data_offset >= peb_size || ec.data_offset % g.page_size != 0) {
        return corrupt_image(peb, "data offset " + std::to_string(ec.data_offset) +
                                      " does not fit a " + std::to_string(peb_size) +
                                      "-byte eraseblock of " + std::to_string(g.page_size) +
                                      "-byte pages");
      }
      layout = {.peb_size = peb_size,
                .vid_hdr_offset = ec.vid_hdr_offset,
                .data_offset = ec.data_offset,
                .leb_size = peb_size - ec.data_offset,
                .image_seq = ec.image_seq};
      return {};
    }
    if (ec.vid_hdr_offset != layout.vid_hdr_offset || ec.data_offset != layout.data_offset)
      return corrupt_image(peb, "VID header / data offsets differ from the other eraseblocks'");
    // Linux skips the check for 0, which images from before image_seq carry.
    if (ec.image_seq != layout.image_seq && ec.image_seq != 0 && layout.image_seq != 0) {
      return corrupt_image(peb, "image sequence number " + std::to_string(ec.image_seq) +
                                    " differs from " + std::to_string(layout.image_seq) +
                                    ": eraseblocks of two different images");
    }
    return {};
  }

  Status scan_vid(std::uint32_t peb) {
    PebInfo& info = ubi_.pebs_[peb];
    if (info.state == PebState::bad || info.state == PebState::erased) return {};
    VidHeader vid;
    auto state = io_.read_header(peb, ubi_.layout_.vid_hdr_offset, vid, info.bitflips);
    if (!state) return tl::unexpected(state.error());
    // A LEB survives a lost EC header (its counter is then the mean); a PEB
    // with neither header that checks is only good for erasing.
    if (*state == HeaderState::erased) {
      info.state = info.erase_count ? PebState::free : PebState::corrupt;
      return {};
    }
    if (*state != HeaderState::valid) {
      info.state = PebState::corrupt;
      return {};
    }
    info.vid = vid;
    info.state = PebState::used;
    ubi_.max_sqnum_ = std::max(ubi_.max_sqnum_, vid.sqnum);
    return place(peb);
  }

  // Two PEBs claim one LEB: the higher sequence number is the newer copy, and
  // it wins unless it was written as a copy (wear-levelling, atomic change)
  // whose data does not check - then its write was cut short.
  Status place(std::uint32_t peb) {
    const VidHeader& vid = ubi_.pebs_[peb].vid;
    auto [slot, inserted] = lebs_.try_emplace(LebKey{vid.vol_id, vid.lnum}, peb);
    if (inserted) return {};
    const std::uint32_t other = slot->second;
    const VidHeader& theirs = ubi_.pebs_[other].vid;
    if (theirs.sqnum == vid.sqnum) {
      return corrupt_image(peb, "PEBs " + std::to_string(other) + " and " + std::to_string(peb) +
                                    " hold LEB " + std::to_string(vid.lnum) + " of volume " +
                                    std::to_string(vid.vol_id) + " with one sequence number");
    }
    const std::uint32_t newer = vid.sqnum > theirs.sqnum ? peb : other;
    const std::uint32_t older = newer == peb ? other : peb;
    bool newer_wins = true;
    if (ubi_.pebs_[newer].vid.copy_flag) {
      auto intact = io_.data_intact(ubi_.layout_, newer, ubi_.pebs_[newer].vid);
      if (!intact) return tl::unexpected(intact.error());
      newer_wins = *intact;
    }
    const std::uint32_t winner = newer_wins ? newer : older;
    ubi_.pebs_[winner == newer ? older : newer].state = PebState::stale;
    slot->second = winner;
    return {};
  }

  void settle_erase_counts() {
    std::uint64_t sum = 0;
    std::uint64_t known = 0;
    for (const PebInfo& info : ubi_.pebs_) {
      if (info.erase_count) {
        sum += *info.erase_count;
        ++known;
      }
    }
    ubi_.mean_ec_ = known ? sum / known : 0;
  }

  std::uint32_t vtbl_bytes() const { return ubi_.vtbl_slots() * kVtblRecordSize; }

  // One copy of the volume table, or why it is unusable.
  Result<std::vector<VtblRecord>> read_table_copy(std::uint32_t peb) {
    std::vector<std::uint8_t> bytes(vtbl_bytes());
    bool flips = false;
    auto read = io_.read(peb, ubi_.layout_.data_offset, bytes, flips);
    if (!read && read.error().code == Errc::uncorrectable)
      return corrupt_image(peb, "the volume table copy is unreadable (ECC)");
    if (!read) return tl::unexpected(read.error());
    std::vector<VtblRecord> records(bytes.size() / kVtblRecordSize);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto record = std::span(bytes).subspan(i * kVtblRecordSize, kVtblRecordSize);
      if (decode(record, records[i]) != HeaderState::valid)
        return corrupt_image(peb, "volume table record " + std::to_string(i) + " does not check");
      if (auto why = record_problem(records[i]); !why.empty())
        return corrupt_image(peb, "volume table record " + std::to_string(i) + ": " + why);
    }
    return records;
  }

  // Linux's vtbl_check() beyond the CRC.
  std::string record_problem(const VtblRecord& record) const {
    if (record.empty()) return {};
    const Layout& layout = ubi_.layout_;
    const std::uint32_t page = ubi_.mtd_.geometry().page_size;
    if (record.alignment > layout.leb_size || (record.alignment != 1 && record.alignment % page))
      return "alignment " + std::to_string(record.alignment);
    if (record.data_pad != layout.leb_size % record.alignment)
      return "data_pad " + std::to_string(record.data_pad);
    if (record.reserved_pebs > ubi_.peb_count())
      return "reserves " + std::to_string(record.reserved_pebs) + " PEBs";
    return {};
  }

  // UBI writes LEB 0 of the layout volume before LEB 1, so a good LEB 0 is
  // the current table; LEB 1 stands in when LEB 0 is lost.
  Status read_volume_table() {
    const auto leb0 = lebs_.find({kLayoutVolumeId, 0});
    const auto leb1 = lebs_.find({kLayoutVolumeId, 1});
    if (leb0 == lebs_.end() && leb1 == lebs_.end()) {
      const bool any_leb = !lebs_.empty();
      if (any_leb) return corrupt_image(-1, "volumes exist but the layout volume is missing");
      return {};  // formatted, no table yet
    }
    ubi_.has_table_ = true;
    ubi_.layout_volume_.eba = {leb0 == lebs_.end() ? kUnmapped : leb0->second,
                               leb1 == lebs_.end() ? kUnmapped : leb1->second};
    Result<std::vector<VtblRecord>> first = corrupt_image(-1, "layout volume LEB 0 is missing");
    if (leb0 != lebs_.end()) first = read_table_copy(leb0->second);
    if (!first && first.error().code != Errc::bad_image) return tl::unexpected(first.error());
    if (first && leb1 != lebs_.end()) {
      table_ = std::move(*first);
      // LEB 1 differing only means its rewrite was cut: LEB 0 is current.
      auto second = read_table_copy(leb1->second);
      if (!second && second.error().code != Errc::bad_image) return tl::unexpected(second.error());
      ubi_.vtbl_degraded_ = !second;
      return {};
    }
    ubi_.vtbl_degraded_ = true;
    if (first) {
      table_ = std::move(*first);
      return {};
    }
    if (leb1 == lebs_.end()) return tl::unexpected(first.error());
    auto second = read_table_copy(leb1->second);
    if (!second) return tl::unexpected(second.error());
    table_ = std::move(*second);
    return {};
  }

  Status build_volumes() {
    for (std::uint32_t id = 0; id < table_.size(); ++id) {
      const VtblRecord& record = table_[id];
      if (record.empty()) continue;
      Volume volume{.id = id, .record = record, .eba = {}, .used_ebs = 0, .used_bytes = 0};
      volume.eba.assign(record.reserved_pebs, kUnmapped);
      ubi_.volumes_.push_back(std::move(volume));
    }
    for (const auto& [key, peb] : lebs_) {
      const auto [vol_id, lnum] = key;
      if (vol_id == kLayoutVolumeId) continue;
      Volume* volume = find_volume(vol_id);
      if (!volume) {  // left by a volume removal that was cut short
        ubi_.pebs_[peb].state = PebState::stale;
        continue;
      }
      if (lnum >= volume->eba.size()) {
        return corrupt_image(peb, "LEB " + std::to_string(lnum) + " of volume " +
                                      std::to_string(vol_id) + " lies beyond its " +
                                      std::to_string(volume->eba.size()) + " reserved PEBs");
      }
      volume->eba[lnum] = peb;
    }
    for (Volume& volume : ubi_.volumes_)
      if (auto sized = size_volume(volume); !sized) return sized;
    return {};
  }

  Volume* find_volume(std::uint32_t id) {
    auto it = std::find_if(ubi_.volumes_.begin(), ubi_.volumes_.end(),
                           [&](const Volume& v) { return v.id == id; });
    return it == ubi_.volumes_.end() ? nullptr : &*it;
  }

  Status size_volume(Volume& volume) {
    const std::uint64_t usable = ubi_.layout_.leb_size - volume.record.data_pad;
    if (volume.record.vol_type == VolumeType::dynamic) {
      volume.used_bytes = usable * volume.eba.size();
      return {};
    }
    for (const std::uint32_t peb : volume.eba) {
      if (peb == kUnmapped) continue;
      const std::uint32_t used_ebs = ubi_.pebs_[peb].vid.used_ebs;
      if (volume.used_ebs != 0 && used_ebs != volume.used_ebs) {
        return corrupt_image(peb, "static volume " + std::to_string(volume.id) +
                                      " has LEBs that disagree on its size");
      }
      volume.used_ebs = used_ebs;
    }
    if (volume.used_ebs == 0) return {};
    const std::uint32_t last = volume.eba[volume.used_ebs - 1];
    const std::uint64_t tail = last == kUnmapped ? 0 : ubi_.pebs_[last].vid.data_size;
    volume.used_bytes = usable * (volume.used_ebs - 1) + tail;
    return {};
  }

  UbiDevice& ubi_;
  PebIo io_;
  std::map<LebKey, std::uint32_t> lebs_;  // each LEB's current PEB
  std::vector<VtblRecord> table_;
};

Result<std::unique_ptr<UbiDevice>> UbiDevice::attach(Device& mtd, Options options) {
  std::unique_ptr<UbiDevice> ubi(new UbiDevice(mtd, options));
  Attacher attacher(*ubi);
  if (auto done = attacher.run(); !done) return tl::unexpected(done.error());
  return ubi;
}

const Volume* UbiDevice::find(std::string_view name) const {
  for (const Volume& volume : volumes_)
    if (volume.record.name == name) return &volume;
  return nullptr;
}

const Volume* UbiDevice::find(std::uint32_t id) const {
  for (const Volume& volume : volumes_)
    if (volume.id == id) return &volume;
  return nullptr;
}

std::uint32_t UbiDevice::count(PebState state) const {
  return static_cast<std::uint32_t>(std::count_if(
      pebs_.begin(), pebs_.end(), [&](const PebInfo& p) { return p.state == state; }));
}

}  // namespace vmodem::nand::ubi
