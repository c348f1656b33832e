#include "address_map.hpp"

namespace vmodem::fota::detail {
namespace {

std::optional<std::uint64_t> to_offset(std::span<const AddressRegion> regions,
                                       std::uint32_t address) {
  for (const auto& r : regions) {
    if (address >= r.address && address - r.address < r.length) {
      return std::uint64_t{r.offset} + (address - r.address);
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> to_address(std::span<const AddressRegion> regions,
                                        std::uint64_t offset) {
  for (const auto& r : regions) {
    if (offset >= r.offset && offset - r.offset < r.length) {
      return static_cast<std::uint32_t>(r.address + (offset - r.offset));
    }
  }
  return std::nullopt;
}

}  // namespace

AddressMap::AddressMap(ByteView old, std::span<const ControlEntry> program,
                       std::span<const AddressRegion> old_regions,
                       std::span<const AddressRegion> new_regions)
    : old_regions_(old_regions), new_regions_(new_regions), new_offset_of_old_(old.size(), -1) {
  std::int64_t old_pos = 0, new_pos = 0;
  for (const auto& e : program) {
    for (std::uint64_t i = 0; i < e.diff_length; ++i) {
      auto& slot = new_offset_of_old_[static_cast<std::size_t>(old_pos) + i];
      if (slot < 0) slot = new_pos + static_cast<std::int64_t>(i);
    }
    new_pos += static_cast<std::int64_t>(e.diff_length + e.extra_length);
    old_pos += static_cast<std::int64_t>(e.diff_length) + e.old_seek;
  }
}

std::optional<std::uint32_t> AddressMap::project(std::uint32_t address) const {
  const auto old_offset = to_offset(old_regions_, address);
  if (!old_offset || *old_offset >= new_offset_of_old_.size()) return std::nullopt;
  const std::int64_t new_offset = new_offset_of_old_[*old_offset];
  if (new_offset < 0) return std::nullopt;
  return to_address(new_regions_, static_cast<std::uint64_t>(new_offset));
}

}  // namespace vmodem::fota::detail
