// UBI's on-flash format, as Linux defines it (drivers/mtd/ubi/ubi-media.h)
// and mtd-utils' ubinize / ubiformat write it: every physical eraseblock
// (PEB) starts with an erase-counter header; a PEB that holds a logical
// eraseblock (LEB) of a volume has a volume-identifier header after it; the
// volume table lives in the internal layout volume. All integers are
// big-endian; every header ends with a CRC-32 of the bytes before it.
//
// Only encoding and decoding live here: what a set of headers means (which
// copy of a LEB is current) is attach.hpp's business.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace vmodem::nand::ubi {

inline constexpr std::uint32_t kEcMagic = 0x55424923;   // "UBI#"
inline constexpr std::uint32_t kVidMagic = 0x55424921;  // "UBI!"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint32_t kHeaderSize = 64;  // both header kinds

// The internal volume holding the volume table: two LEBs, each a full copy.
inline constexpr std::uint32_t kLayoutVolumeId = 0x7FFFEFFF;
inline constexpr std::uint32_t kLayoutVolumeLebs = 2;
inline constexpr std::uint8_t kCompatReject = 5;  // the layout volume's compat
inline constexpr std::uint32_t kMaxVolumes = 128;
inline constexpr std::uint32_t kVolumeNameMax = 127;
inline constexpr std::uint32_t kVtblRecordSize = 172;

enum class VolumeType : std::uint8_t { dynamic = 1, static_ = 2 };  // static_: UBI's "static"

// The CRC-32 every UBI header and the volume table use: Linux's crc32_le
// started at 0xFFFFFFFF with no final inversion (the complement of zlib's).
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

struct EcHeader {
  std::uint8_t version = kVersion;
  std::uint64_t erase_count = 0;
  std::uint32_t vid_hdr_offset = 0;
  std::uint32_t data_offset = 0;
  std::uint32_t image_seq = 0;
};

struct VidHeader {
  std::uint8_t version = kVersion;
  VolumeType vol_type = VolumeType::dynamic;
  bool copy_flag = false;  // written by wear-levelling / atomic change: data_crc is valid
  std::uint8_t compat = 0;
  std::uint32_t vol_id = 0;
  std::uint32_t lnum = 0;
  std::uint32_t data_size = 0;  // static volumes and copies: bytes of data in this LEB
  std::uint32_t used_ebs = 0;   // static volumes: LEBs the volume's data occupies
  std::uint32_t data_pad = 0;
  std::uint32_t data_crc = 0;  // crc32() of data_size bytes of data
  std::uint64_t sqnum = 0;     // global write sequence: the higher copy is newer
};

struct VtblRecord {
  std::uint32_t reserved_pebs = 0;  // 0: the slot is empty
  std::uint32_t alignment = 1;
  std::uint32_t data_pad = 0;
  VolumeType vol_type = VolumeType::dynamic;
  bool upd_marker = false;  // an update was interrupted: the contents are garbage
  std::string name;         // at most kVolumeNameMax bytes
  std::uint8_t flags = 0;   // kAutoresize | kSkipCheck
  bool empty() const { return reserved_pebs == 0; }
};
inline constexpr std::uint8_t kAutoresize = 0x01;
inline constexpr std::uint8_t kSkipCheck = 0x02;

// What decoding a header found.
enum class HeaderState : std::uint8_t {
  valid,
  erased,     // every byte 0xFF: nothing was ever written here
  bad_magic,  // something else (another format, or garbage)
  bad_crc,    // the magic is right but the header is torn or corrupt
  bad_field,  // checksum right, contents impossible (version, type, sizes)
};
const char* to_string(HeaderState state);

// Encoders fill exactly kHeaderSize bytes (or kVtblRecordSize), CRC included.
void encode(const EcHeader& header, std::span<std::uint8_t, kHeaderSize> out);
void encode(const VidHeader& header, std::span<std::uint8_t, kHeaderSize> out);
void encode(const VtblRecord& record, std::span<std::uint8_t, kVtblRecordSize> out);

// Decoders read the first kHeaderSize (kVtblRecordSize) bytes of `in`, which
// must be at least that long; `out` is set only when the result is valid.
HeaderState decode(std::span<const std::uint8_t> in, EcHeader& out);
HeaderState decode(std::span<const std::uint8_t> in, VidHeader& out);
// A vtbl record: valid (possibly empty), or bad_crc / bad_field.
HeaderState decode(std::span<const std::uint8_t> in, VtblRecord& out);

}  // namespace vmodem::nand::ubi
