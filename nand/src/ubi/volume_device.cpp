#include <algorithm>
#include <string>
#include <vector>

#include <vmodem/nand/ubi/volume_device.hpp>

namespace vmodem::nand::ubi {

VolumeDevice::VolumeDevice(UbiDevice& ubi, std::uint32_t vol_id)
    : ubi_(ubi),
      vol_id_(vol_id),
      unit_(ubi.layout().peb_size / ubi.mtd_geometry().pages_per_block) {
  const Volume* volume = ubi.find(vol_id);
  geometry_.page_size = unit_ - kInBandSpare;
  geometry_.spare_size = kInBandSpare;
  geometry_.pages_per_block = ubi.layout().leb_size / unit_;
  geometry_.block_count = volume ? static_cast<std::uint32_t>(volume->eba.size()) : 0;
  geometry_.nop = 1;
  unit_buffer_.resize(unit_);
}

Status VolumeDevice::check(PageAddr addr) const {
  if (addr.block >= geometry_.block_count || addr.page >= geometry_.pages_per_block)
    return fail(Errc::out_of_range, addr.block, addr.page, "outside the UBI volume");
  return {};
}

Result<ReadInfo> VolumeDevice::read(PageAddr addr, std::span<std::uint8_t> main,
                                    std::span<std::uint8_t> spare) {
  if (auto ok = check(addr); !ok) return tl::unexpected(ok.error());
  if (main.size() > geometry_.page_size || (!spare.empty() && spare.size() != kInBandSpare))
    return fail(Errc::invalid_argument, addr.block, addr.page, "read buffer size");
  const std::uint32_t at = addr.page * unit_;
  if (spare.empty()) {
    if (auto read = ubi_.read_leb(vol_id_, addr.block, at, main); !read)
      return tl::unexpected(read.error());
    return ReadInfo{};
  }
  if (main.empty()) {
    // The tags alone (a mount's scan reads every page's): a column read of
    // the unit's last bytes, not the whole unit.
    if (auto read = ubi_.read_leb(vol_id_, addr.block, at + geometry_.page_size, spare); !read)
      return tl::unexpected(read.error());
    return ReadInfo{};
  }
  std::span<std::uint8_t> unit(unit_buffer_);
  if (auto read = ubi_.read_leb(vol_id_, addr.block, at, unit); !read)
    return tl::unexpected(read.error());
  std::copy_n(unit.begin(), main.size(), main.begin());
  std::copy_n(unit.begin() + geometry_.page_size, kInBandSpare, spare.begin());
  return ReadInfo{};
}

Status VolumeDevice::program(PageAddr addr, std::span<const std::uint8_t> main,
                             std::span<const std::uint8_t> spare) {
  if (auto ok = check(addr); !ok) return ok;
  if ((!main.empty() && main.size() != geometry_.page_size) ||
      (!spare.empty() && spare.size() != kInBandSpare))
    return fail(Errc::invalid_argument, addr.block, addr.page, "program buffer size");
  std::span<std::uint8_t> unit(unit_buffer_);
  std::fill(unit.begin(), unit.end(), 0xFF);
  std::copy(main.begin(), main.end(), unit.begin());
  std::copy(spare.begin(), spare.end(), unit.begin() + geometry_.page_size);
  return ubi_.write_leb(vol_id_, addr.block, addr.page * unit_, unit);
}

Status VolumeDevice::program_partial(PageAddr addr, std::uint32_t, std::span<const std::uint8_t>) {
  return fail(Errc::nop_exceeded, addr.block, addr.page,
              "a UBI volume takes each page once, whole");
}

Status VolumeDevice::erase(std::uint32_t block) {
  if (auto ok = check({block, 0}); !ok) return ok;
  return ubi_.unmap_leb(vol_id_, block);
}

Result<bool> VolumeDevice::is_bad(std::uint32_t block) {
  if (auto ok = check({block, 0}); !ok) return tl::unexpected(ok.error());
  return false;
}

Status VolumeDevice::mark_bad(std::uint32_t block) {
  return check({block, 0});
}

}  // namespace vmodem::nand::ubi
