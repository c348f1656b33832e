#include "esp_image.hpp"

namespace vmodem::fota::detail {
namespace {

constexpr std::uint8_t kV1Magic = 0xE9;  // plain segment list (ROM loader format)
constexpr std::uint8_t kV2Magic = 0xEA;  // flash-mapped IROM first, then a v1 image
constexpr std::size_t kMaxSegments = 8;
// OTA slots of the 1024+1024 map: user1 runs at flash 0x01000, user2 at
// 0x81000; the IROM payload starts 0x10 bytes into the slot.
constexpr std::uint32_t kIromBases[] = {0x40201010, 0x40281010};

// Appends the segments of a v1 image starting at `offset`; false if malformed.
bool read_v1_segments(ByteView image, std::size_t offset, std::vector<AddressRegion>& out) {
  Reader r(image.subspan(offset));
  if (r.u8() != kV1Magic) return false;
  const std::uint8_t count = r.u8();
  r.u16();  // flash mode and size
  r.u32();  // entry point
  if (!r.ok() || count == 0 || count > kMaxSegments) return false;
  for (std::uint8_t i = 0; i < count; ++i) {
    const std::uint32_t address = r.u32();
    const std::uint32_t length = r.u32();
    const std::size_t data_offset = offset + r.position();
    r.bytes(length);
    if (!r.ok()) return false;
    out.push_back({static_cast<std::uint32_t>(data_offset), length, address});
  }
  return true;
}

}  // namespace

std::vector<std::vector<AddressRegion>> esp8266_layouts(ByteView image) {
  if (image.size() < 16) return {};
  if (image[0] == kV1Magic) {
    std::vector<AddressRegion> regions;
    if (!read_v1_segments(image, 0, regions)) return {};
    return {regions};
  }
  if (image[0] != kV2Magic) return {};
  Reader r(image);
  r.bytes(8);  // magic, segment count, flash mode/size, entry point
  r.u32();     // IROM "address" field (0: mapped wherever the slot is)
  const std::uint32_t irom_length = r.u32();
  if (!r.ok() || irom_length > image.size() - 16) return {};
  std::vector<AddressRegion> tail;
  if (!read_v1_segments(image, 16 + std::size_t{irom_length}, tail)) return {};
  std::vector<std::vector<AddressRegion>> layouts;
  for (const std::uint32_t base : kIromBases) {
    std::vector<AddressRegion> regions{{16, irom_length, base}};
    regions.insert(regions.end(), tail.begin(), tail.end());
    layouts.push_back(std::move(regions));
  }
  return layouts;
}

}  // namespace vmodem::fota::detail
