// UBI header encoding and decoding. Offsets follow struct ubi_ec_hdr,
// struct ubi_vid_hdr and struct ubi_vtbl_record of Linux's ubi-media.h.
#include <algorithm>
#include <array>
#include <cstring>

#include <isa-l/crc.h>

#include <vmodem/nand/ubi/media.hpp>

namespace vmodem::nand::ubi {
namespace {

// EC header: magic 0, version 4, padding 5-7, ec 8, vid_hdr_offset 16,
// data_offset 20, image_seq 24, padding 28-59, hdr_crc 60.
// VID header: magic 0, version 4, vol_type 5, copy_flag 6, compat 7,
// vol_id 8, lnum 12, padding 16-19, data_size 20, used_ebs 24, data_pad 28,
// data_crc 32, padding 36-39, sqnum 40, padding 48-59, hdr_crc 60.
// vtbl record: reserved_pebs 0, alignment 4, data_pad 8, vol_type 12,
// upd_marker 13, name_len 14, name 16-143, flags 144, padding 145-167, crc 168.
constexpr std::size_t kHeaderCrcAt = kHeaderSize - 4;
constexpr std::size_t kRecordCrcAt = kVtblRecordSize - 4;
constexpr std::size_t kNameAt = 16;
constexpr std::size_t kFlagsAt = 144;

void put32(std::span<std::uint8_t> out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void put64(std::span<std::uint8_t> out, std::size_t at, std::uint64_t v) {
  put32(out, at, static_cast<std::uint32_t>(v >> 32));
  put32(out, at + 4, static_cast<std::uint32_t>(v));
}
std::uint32_t get32(std::span<const std::uint8_t> in, std::size_t at) {
  return std::uint32_t{in[at]} << 24 | std::uint32_t{in[at + 1]} << 16 |
         std::uint32_t{in[at + 2]} << 8 | std::uint32_t{in[at + 3]};
}
std::uint64_t get64(std::span<const std::uint8_t> in, std::size_t at) {
  return std::uint64_t{get32(in, at)} << 32 | get32(in, at + 4);
}
std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
  return static_cast<std::uint16_t>(in[at] << 8 | in[at + 1]);
}

void seal(std::span<std::uint8_t> out, std::size_t crc_at) {
  put32(out, crc_at, crc32(out.first(crc_at)));
}

// The magic-and-checksum part every header shares.
HeaderState check(std::span<const std::uint8_t> header, std::uint32_t magic) {
  if (std::all_of(header.begin(), header.end(), [](std::uint8_t b) { return b == 0xFF; }))
    return HeaderState::erased;
  if (get32(header, 0) != magic) return HeaderState::bad_magic;
  if (get32(header, kHeaderCrcAt) != crc32(header.first(kHeaderCrcAt))) return HeaderState::bad_crc;
  if (header[4] != kVersion) return HeaderState::bad_field;
  return HeaderState::valid;
}

bool valid_type(std::uint8_t type) {
  return type == static_cast<std::uint8_t>(VolumeType::dynamic) ||
         type == static_cast<std::uint8_t>(VolumeType::static_);
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  // crc32_gzip_refl is zlib's crc32(): inverted before and after the update.
  return ~crc32_gzip_refl(0, bytes.data(), bytes.size());
}

const char* to_string(HeaderState state) {
  switch (state) {
    case HeaderState::valid:
      return "valid";
    case HeaderState::erased:
      return "erased";
    case HeaderState::bad_magic:
      return "bad magic";
    case HeaderState::bad_crc:
      return "bad CRC";
    case HeaderState::bad_field:
      return "impossible field";
  }
  return "?";
}

void encode(const EcHeader& header, std::span<std::uint8_t, kHeaderSize> out) {
  std::fill(out.begin(), out.end(), 0);
  put32(out, 0, kEcMagic);
  out[4] = header.version;
  put64(out, 8, header.erase_count);
  put32(out, 16, header.vid_hdr_offset);
  put32(out, 20, header.data_offset);
  put32(out, 24, header.image_seq);
  seal(out, kHeaderCrcAt);
}

void encode(const VidHeader& header, std::span<std::uint8_t, kHeaderSize> out) {
  std::fill(out.begin(), out.end(), 0);
  put32(out, 0, kVidMagic);
  out[4] = header.version;
  out[5] = static_cast<std::uint8_t>(header.vol_type);
  out[6] = header.copy_flag ? 1 : 0;
  out[7] = header.compat;
  put32(out, 8, header.vol_id);
  put32(out, 12, header.lnum);
  put32(out, 20, header.data_size);
  put32(out, 24, header.used_ebs);
  put32(out, 28, header.data_pad);
  put32(out, 32, header.data_crc);
  put64(out, 40, header.sqnum);
  seal(out, kHeaderCrcAt);
}

void encode(const VtblRecord& record, std::span<std::uint8_t, kVtblRecordSize> out) {
  std::fill(out.begin(), out.end(), 0);
  if (!record.empty()) {
    put32(out, 0, record.reserved_pebs);
    put32(out, 4, record.alignment);
    put32(out, 8, record.data_pad);
    out[12] = static_cast<std::uint8_t>(record.vol_type);
    out[13] = record.upd_marker ? 1 : 0;
    const std::size_t len = std::min<std::size_t>(record.name.size(), kVolumeNameMax);
    out[14] = static_cast<std::uint8_t>(len >> 8);
    out[15] = static_cast<std::uint8_t>(len);
    std::memcpy(out.data() + kNameAt, record.name.data(), len);
    out[kFlagsAt] = record.flags;
  }
  seal(out, kRecordCrcAt);
}

HeaderState decode(std::span<const std::uint8_t> in, EcHeader& out) {
  const auto header = in.first(kHeaderSize);
  if (const HeaderState state = check(header, kEcMagic); state != HeaderState::valid) return state;
  EcHeader h;
  h.version = header[4];
  h.erase_count = get64(header, 8);
  h.vid_hdr_offset = get32(header, 16);
  h.data_offset = get32(header, 20);
  h.image_seq = get32(header, 24);
  // Linux refuses counters beyond its maximum (INT_MAX) as corrupt.
  if (h.erase_count > 0x7FFFFFFF || h.vid_hdr_offset < kHeaderSize ||
      h.data_offset < h.vid_hdr_offset + kHeaderSize)
    return HeaderState::bad_field;
  out = h;
  return HeaderState::valid;
}

HeaderState decode(std::span<const std::uint8_t> in, VidHeader& out) {
  const auto header = in.first(kHeaderSize);
  if (const HeaderState state = check(header, kVidMagic); state != HeaderState::valid) return state;
  if (!valid_type(header[5]) || header[6] > 1) return HeaderState::bad_field;
  VidHeader h;
  h.version = header[4];
  h.vol_type = static_cast<VolumeType>(header[5]);
  h.copy_flag = header[6] == 1;
  h.compat = header[7];
  h.vol_id = get32(header, 8);
  h.lnum = get32(header, 12);
  h.data_size = get32(header, 20);
  h.used_ebs = get32(header, 24);
  h.data_pad = get32(header, 28);
  h.data_crc = get32(header, 32);
  h.sqnum = get64(header, 40);
  const bool user_volume = h.vol_id < kMaxVolumes;
  if (!user_volume && h.vol_id != kLayoutVolumeId) return HeaderState::bad_field;
  if (h.vol_type == VolumeType::static_ && h.lnum >= h.used_ebs) return HeaderState::bad_field;
  out = h;
  return HeaderState::valid;
}

namespace {

// An empty slot as UBI writes it: zeroes and their CRC. Most of a table is
// empty slots, and every attach reads two copies: one compare each instead
// of a CRC and a scan.
const std::array<std::uint8_t, kVtblRecordSize>& empty_record() {
  static const std::array<std::uint8_t, kVtblRecordSize> record = [] {
    std::array<std::uint8_t, kVtblRecordSize> r{};
    put32(r, kRecordCrcAt, crc32(std::span<const std::uint8_t>(r).first(kRecordCrcAt)));
    return r;
  }();
  return record;
}

}  // namespace

HeaderState decode(std::span<const std::uint8_t> in, VtblRecord& out) {
  const auto record = in.first(kVtblRecordSize);
  if (std::memcmp(record.data(), empty_record().data(), kVtblRecordSize) == 0) {
    out = VtblRecord{};
    out.alignment = 0;
    return HeaderState::valid;
  }
  if (get32(record, kRecordCrcAt) != crc32(record.first(kRecordCrcAt))) return HeaderState::bad_crc;
  VtblRecord r;
  r.reserved_pebs = get32(record, 0);
  if (r.reserved_pebs == 0) {
    // An empty slot is all zeroes: anything else was never written by UBI.
    const bool zero = std::all_of(record.begin(), record.begin() + kRecordCrcAt,
                                  [](std::uint8_t b) { return b == 0; });
    if (!zero) return HeaderState::bad_field;
    out = VtblRecord{};
    out.alignment = 0;
    return HeaderState::valid;
  }
  r.alignment = get32(record, 4);
  r.data_pad = get32(record, 8);
  const std::uint16_t name_len = get16(record, 14);
  if (!valid_type(record[12]) || record[13] > 1 || r.alignment == 0 || name_len == 0 ||
      name_len > kVolumeNameMax || record[kNameAt + name_len] != 0 ||
      std::memchr(record.data() + kNameAt, 0, name_len) != nullptr)
    return HeaderState::bad_field;
  r.vol_type = static_cast<VolumeType>(record[12]);
  r.upd_marker = record[13] == 1;
  r.name.assign(reinterpret_cast<const char*>(record.data() + kNameAt), name_len);
  r.flags = record[kFlagsAt];
  out = r;
  return HeaderState::valid;
}

}  // namespace vmodem::nand::ubi
