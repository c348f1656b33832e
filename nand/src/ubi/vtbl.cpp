// The volume table: formatting a device and creating volumes.
#include <algorithm>
#include <string>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "ubi/peb_io.hpp"

namespace vmodem::nand::ubi {
namespace {

Volume layout_volume() {
  Volume v;
  v.id = kLayoutVolumeId;
  v.record.reserved_pebs = kLayoutVolumeLebs;
  v.record.vol_type = VolumeType::dynamic;
  v.record.name = "layout volume";
  v.eba.assign(kLayoutVolumeLebs, kUnmapped);
  return v;
}

}  // namespace

UbiDevice::UbiDevice(Device& mtd, Options options)
    : mtd_(mtd), options_(options), layout_volume_(layout_volume()) {}

std::uint32_t UbiDevice::vtbl_slots() const {
  return std::min(kMaxVolumes, layout_.leb_size / kVtblRecordSize);
}

std::vector<VtblRecord> UbiDevice::volume_table() const {
  std::vector<VtblRecord> table(vtbl_slots());
  for (const Volume& v : volumes_)
    table[v.id] = v.record;
  return table;
}

// Both copies, LEB 0 first: attach trusts a good LEB 0, so a cut while LEB 1
// is rewritten already leaves the new table.
Status UbiDevice::write_volume_table(const std::vector<VtblRecord>& table) {
  const std::uint32_t page = mtd_.geometry().page_size;
  const std::size_t size = table.size() * kVtblRecordSize;
  std::vector<std::uint8_t> bytes((size + page - 1) / page * page, 0);
  for (std::size_t i = 0; i < table.size(); ++i) {
    encode(table[i], std::span<std::uint8_t, kVtblRecordSize>(bytes.data() + i * kVtblRecordSize,
                                                              kVtblRecordSize));
  }
  for (std::uint32_t lnum = 0; lnum < kLayoutVolumeLebs; ++lnum)
    if (auto changed = change_leb(kLayoutVolumeId, lnum, bytes); !changed) return changed;
  has_table_ = true;
  return {};
}

Status UbiDevice::format() {
  if (!volumes_.empty()) return refuse("the device has volumes; format() would lose them");
  if (layout_.peb_size == 0) {
    const Geometry& g = mtd_.geometry();
    const std::uint32_t peb_size = g.pages_per_block * g.page_size;
    layout_ = {.peb_size = peb_size,
               .vid_hdr_offset = g.page_size,
               .data_offset = 2 * g.page_size,
               .leb_size = peb_size - 2 * g.page_size,
               .image_seq = options_.image_seq};
  }
  for (std::uint32_t& peb : layout_volume_.eba)
    peb = kUnmapped;
  for (std::uint32_t peb = 0; peb < pebs_.size(); ++peb) {
    const PebState state = pebs_[peb].state;
    if (state == PebState::bad || state == PebState::free) continue;
    if (auto erased = erase_peb(peb); !erased) return erased;
  }
  return write_volume_table(volume_table());
}

Status UbiDevice::create_volume(std::uint32_t id, std::string_view name, VolumeType type,
                                std::uint32_t reserved_pebs, std::uint8_t flags) {
  if (needs_format()) return refuse("no volume table: format the device first");
  if (read_only_)
    return fail(Errc::io_error, -1, -1, "UBI: read-only: the reserve for bad PEBs is used up");
  if (name.empty() || name.size() > kVolumeNameMax)
    return refuse("a volume name is 1 to " + std::to_string(kVolumeNameMax) + " bytes");
  if (find(name)) return refuse("a volume named '" + std::string(name) + "' exists");
  if (id >= vtbl_slots() || find(id))
    return refuse("volume id " + std::to_string(id) + " is taken or out of range");
  if (reserved_pebs == 0) return refuse("a volume needs at least one PEB");
  if (reserved_pebs > available_pebs()) {
    return fail(Errc::no_space, -1, -1,
                "UBI: " + std::to_string(reserved_pebs) + " PEBs asked, " +
                    std::to_string(available_pebs()) + " available");
  }
  VtblRecord record;
  record.reserved_pebs = reserved_pebs;
  record.vol_type = type;
  record.name = std::string(name);
  record.flags = flags;
  auto table = volume_table();
  table[id] = record;
  if (auto written = write_volume_table(table); !written) return written;
  Volume v;
  v.id = id;
  v.record = record;
  v.eba.assign(reserved_pebs, kUnmapped);
  v.used_bytes = std::uint64_t{layout_.leb_size} * reserved_pebs;
  volumes_.push_back(std::move(v));
  std::sort(volumes_.begin(), volumes_.end(),
            [](const Volume& a, const Volume& b) { return a.id < b.id; });
  return {};
}

namespace {

// Erases every good block: a device attach refused is started afresh.
Status erase_all(Device& mtd) {
  for (std::uint32_t block = 0; block < mtd.geometry().block_count; ++block) {
    auto bad = mtd.is_bad(block);
    if (!bad) return tl::unexpected(bad.error());
    if (*bad) continue;
    if (auto erased = mtd.erase(block); !erased) {
      if (erased.error().code != Errc::erase_fail) return erased;
      if (auto marked = mtd.mark_bad(block); !marked) return marked;
    }
  }
  return {};
}

}  // namespace

Result<OpenedVolume> attach_or_format(Device& mtd, std::string_view name, Options options) {
  OpenedVolume out;
  auto attached = UbiDevice::attach(mtd, options);
  if (!attached) {
    if (attached.error().code != Errc::bad_image) return tl::unexpected(attached.error());
    out.formatted_because = attached.error().detail;
    if (auto erased = erase_all(mtd); !erased) return tl::unexpected(erased.error());
    attached = UbiDevice::attach(mtd, options);
    if (!attached) return tl::unexpected(attached.error());
  }
  out.ubi = std::move(*attached);
  UbiDevice& ubi = *out.ubi;
  if (const Volume* volume = ubi.find(name)) {
    out.volume_id = volume->id;
    return out;
  }
  if (out.formatted_because.empty()) {
    out.formatted_because =
        ubi.needs_format() ? "no UBI volume table" : "no UBI volume \"" + std::string(name) + "\"";
  }
  if (!ubi.needs_format() && ubi.available_pebs() == 0) {
    // Other volumes fill it: the kernel's script formats the whole
    // partition for its volume.
    out.ubi.reset();
    if (auto erased = erase_all(mtd); !erased) return tl::unexpected(erased.error());
    auto fresh = UbiDevice::attach(mtd, options);
    if (!fresh) return tl::unexpected(fresh.error());
    out.ubi = std::move(*fresh);
  }
  if (out.ubi->needs_format()) {
    if (auto formatted = out.ubi->format(); !formatted) return tl::unexpected(formatted.error());
  }
  std::uint32_t id = 0;
  while (out.ubi->find(id))
    ++id;
  const std::uint32_t pebs = out.ubi->available_pebs();
  if (pebs == 0)
    return fail(Errc::no_space, -1, -1, "UBI: the partition is too small for a volume");
  if (auto created = out.ubi->create_volume(id, name, VolumeType::dynamic, pebs, kAutoresize);
      !created)
    return tl::unexpected(created.error());
  out.volume_id = id;
  return out;
}

}  // namespace vmodem::nand::ubi
