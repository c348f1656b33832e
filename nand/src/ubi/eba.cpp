// LEB reads and writes: the eraseblock association (EBA) table in use.
#include <algorithm>
#include <string>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "ubi/peb_io.hpp"

namespace vmodem::nand::ubi {
Volume* UbiDevice::volume(std::uint32_t vol_id) {
  if (vol_id == kLayoutVolumeId) return &layout_volume_;
  auto it = std::find_if(volumes_.begin(), volumes_.end(),
                         [&](const Volume& v) { return v.id == vol_id; });
  return it == volumes_.end() ? nullptr : &*it;
}

bool UbiDevice::is_mapped(std::uint32_t vol_id, std::uint32_t lnum) const {
  const Volume* v = find(vol_id);
  return v && lnum < v->eba.size() && v->eba[lnum] != kUnmapped;
}

Result<Volume*> UbiDevice::writable(std::uint32_t vol_id, std::uint32_t lnum) {
  if (read_only_)
    return fail(Errc::io_error, -1, -1, "UBI: read-only: the reserve for bad PEBs is used up");
  Volume* v = volume(vol_id);
  if (!v) return refuse("no volume " + std::to_string(vol_id));
  if (v->record.vol_type != VolumeType::dynamic) {
    return refuse("volume " + std::to_string(vol_id) +
                  " is static: its LEBs are written by a whole-volume update");
  }
  if (lnum >= v->eba.size()) {
    return refuse("LEB " + std::to_string(lnum) + " is beyond volume " + std::to_string(vol_id) +
                  "'s " + std::to_string(v->eba.size()));
  }
  return v;
}

Status UbiDevice::read_leb(std::uint32_t vol_id, std::uint32_t lnum, std::uint32_t offset,
                           std::span<std::uint8_t> out) {
  const Volume* v = volume(vol_id);
  if (!v || lnum >= v->eba.size())
    return refuse("no LEB " + std::to_string(lnum) + " in volume " + std::to_string(vol_id));
  if (offset > layout_.leb_size || out.size() > layout_.leb_size - offset)
    return refuse("read beyond the LEB");
  const std::uint32_t peb = v->eba[lnum];
  if (peb == kUnmapped) {
    std::fill(out.begin(), out.end(), 0xFF);
    return {};
  }
  bool flips = false;
  if (auto read = PebIo(mtd_).read(peb, layout_.data_offset + offset, out, flips); !read)
    return read;
  return after_read(peb, flips);
}

// A fresh VID header for LEB `lnum` of `v`, with the next sequence number.
VidHeader UbiDevice::next_vid(const Volume& v, std::uint32_t lnum) {
  VidHeader vid;
  vid.vol_type = v.record.vol_type;
  vid.compat = v.id == kLayoutVolumeId ? kCompatReject : 0;
  vid.vol_id = v.id;
  vid.lnum = lnum;
  vid.data_pad = v.record.data_pad;
  vid.sqnum = ++max_sqnum_;
  return vid;
}

Status UbiDevice::write_leb(std::uint32_t vol_id, std::uint32_t lnum, std::uint32_t offset,
                            std::span<const std::uint8_t> data) {
  auto v = writable(vol_id, lnum);
  if (!v) return tl::unexpected(v.error());
  const std::uint32_t page = mtd_.geometry().page_size;
  if (offset % page != 0 || data.size() % page != 0 || offset > layout_.leb_size ||
      data.size() > layout_.leb_size - offset)
    return refuse("a LEB write must be whole pages inside the LEB");
  Volume& volume = **v;
  if (volume.eba[lnum] == kUnmapped) {
    auto peb = place_leb(volume, lnum, next_vid(volume, lnum), {});
    if (!peb) return tl::unexpected(peb.error());
  }
  return program_or_recover(volume, lnum, offset, data);
}

// Programs `data` at `offset` of the LEB's PEB. A page that fails to program
// takes the PEB with it: what the LEB held so far and `data` go to a new PEB
// under a new VID header, and the failed one is retired (Linux's
// recover_peb()).
Status UbiDevice::program_or_recover(Volume& volume, std::uint32_t lnum, std::uint32_t offset,
                                     std::span<const std::uint8_t> data) {
  const std::uint32_t peb = volume.eba[lnum];
  auto written = program_pages(peb, layout_.data_offset + offset, data);
  if (written || written.error().code != Errc::program_fail) return written;
  std::vector<std::uint8_t> contents(offset + data.size());
  bool flips = false;
  if (auto read =
          PebIo(mtd_).read(peb, layout_.data_offset, std::span(contents).first(offset), flips);
      !read)
    return read;
  std::copy(data.begin(), data.end(), contents.begin() + offset);
  if (auto retired = retire_peb(peb); !retired) return retired;
  volume.eba[lnum] = kUnmapped;
  ++counters_.recovered_writes;
  auto moved = place_leb(volume, lnum, next_vid(volume, lnum), contents);
  return moved ? Status{} : tl::unexpected(moved.error());
}

Status UbiDevice::change_leb(std::uint32_t vol_id, std::uint32_t lnum,
                             std::span<const std::uint8_t> data) {
  auto v = vol_id == kLayoutVolumeId ? Result<Volume*>(&layout_volume_) : writable(vol_id, lnum);
  if (!v) return tl::unexpected(v.error());
  if (data.size() > layout_.leb_size) return refuse("more data than a LEB holds");
  Volume& volume = **v;
  if (data.empty()) return unmap_leb(vol_id, lnum);
  VidHeader vid = next_vid(volume, lnum);
  vid.copy_flag = true;
  vid.data_size = static_cast<std::uint32_t>(data.size());
  vid.data_crc = crc32(data);
  const std::uint32_t old = volume.eba[lnum];
  volume.eba[lnum] = kUnmapped;
  auto placed = place_leb(volume, lnum, vid, data);
  if (!placed) {
    volume.eba[lnum] = old;
    return tl::unexpected(placed.error());
  }
  // Only now, with the new copy whole on flash, may the old one go.
  return old == kUnmapped ? Status{} : release_peb(old);
}

Status UbiDevice::unmap_leb(std::uint32_t vol_id, std::uint32_t lnum) {
  auto v = writable(vol_id, lnum);
  if (!v) return tl::unexpected(v.error());
  const std::uint32_t peb = (*v)->eba[lnum];
  if (peb == kUnmapped) return {};
  (*v)->eba[lnum] = kUnmapped;
  return release_peb(peb);
}

// Gives LEB `lnum` of `volume` a free PEB holding `vid` and `data` (padded
// to whole pages with 0xFF), retrying on another PEB when one fails.
Result<std::uint32_t> UbiDevice::place_leb(Volume& volume, std::uint32_t lnum, const VidHeader& vid,
                                           std::span<const std::uint8_t> data) {
  for (;;) {
    auto peb = take_free_peb();
    if (!peb) return tl::unexpected(peb.error());
    auto written = write_copy(*peb, vid, data);
    if (written) {
      pebs_[*peb].state = PebState::used;
      pebs_[*peb].vid = vid;
      volume.eba[lnum] = *peb;
      return *peb;
    }
    if (written.error().code != Errc::program_fail) return tl::unexpected(written.error());
    if (auto retired = retire_peb(*peb); !retired) return tl::unexpected(retired.error());
  }
}

// Writes `vid` and `data` (padded to whole pages with 0xFF) into `peb`.
Status UbiDevice::write_copy(std::uint32_t peb, const VidHeader& vid,
                             std::span<const std::uint8_t> data) {
  if (auto written = write_vid(peb, vid); !written) return written;
  const std::uint32_t page = mtd_.geometry().page_size;
  const std::size_t whole = data.size() / page * page;
  if (auto written = program_pages(peb, layout_.data_offset, data.first(whole)); !written)
    return written;
  if (whole == data.size()) return {};
  std::vector<std::uint8_t> tail(page, 0xFF);
  std::copy(data.begin() + static_cast<std::ptrdiff_t>(whole), data.end(), tail.begin());
  return program_pages(peb, layout_.data_offset + static_cast<std::uint32_t>(whole), tail);
}

Status UbiDevice::program_pages(std::uint32_t peb, std::uint32_t offset,
                                std::span<const std::uint8_t> data) {
  const std::uint32_t page = mtd_.geometry().page_size;
  for (std::size_t at = 0; at < data.size(); at += page) {
    const auto index = static_cast<std::uint32_t>((offset + at) / page);
    if (auto programmed = mtd_.program({peb, index}, data.subspan(at, page), {}); !programmed)
      return programmed;
  }
  return {};
}

Status UbiDevice::write_vid(std::uint32_t peb, const VidHeader& vid) {
  const std::uint32_t page = mtd_.geometry().page_size;
  std::uint8_t header[kHeaderSize];
  encode(vid, std::span<std::uint8_t, kHeaderSize>(header));
  const std::uint32_t index = layout_.vid_hdr_offset / page;
  const std::uint32_t column = layout_.vid_hdr_offset % page;
  if (column != 0) return mtd_.program_partial({peb, index}, column, header);
  std::vector<std::uint8_t> bytes(page, 0xFF);
  std::copy(std::begin(header), std::end(header), bytes.begin());
  return mtd_.program({peb, index}, bytes, {});
}

Result<std::vector<std::uint8_t>> UbiDevice::read_static_volume(std::uint32_t vol_id) {
  const Volume* v = find(vol_id);
  if (!v || v->record.vol_type != VolumeType::static_)
    return refuse("volume " + std::to_string(vol_id) + " is not a static volume");
  if (v->record.upd_marker) {
    return fail(Errc::bad_image, -1, -1,
                "UBI: an update of volume " + std::to_string(vol_id) + " was interrupted");
  }
  std::vector<std::uint8_t> data;
  data.reserve(v->used_bytes);
  PebIo io(mtd_);
  for (std::uint32_t lnum = 0; lnum < v->used_ebs; ++lnum) {
    const std::uint32_t peb = v->eba[lnum];
    if (peb == kUnmapped) {
      return fail(Errc::bad_image, -1, -1,
                  "UBI: LEB " + std::to_string(lnum) + " of static volume " +
                      std::to_string(vol_id) + " is missing");
    }
    const VidHeader& vid = pebs_[peb].vid;
    const std::size_t at = data.size();
    data.resize(at + vid.data_size);
    bool flips = false;
    auto read = io.read(peb, layout_.data_offset, std::span(data).subspan(at), flips);
    if (!read) return tl::unexpected(read.error());
    if (crc32(std::span(data).subspan(at)) != vid.data_crc) {
      return fail(Errc::bad_image, peb, -1,
                  "UBI: LEB " + std::to_string(lnum) + " of static volume " +
                      std::to_string(vol_id) + " does not match its data CRC");
    }
  }
  return data;
}

}  // namespace vmodem::nand::ubi
