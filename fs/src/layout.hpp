// On-flash layout: page tags (spare area), object headers and the superblock
// (main area). All integers little-endian.
//
// Spare area: bytes 0-1 are the bad-block marker and never written; the
// 32-byte tags start at kTagsOffset. An all-0xFF tag area is an erased page.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace vmodem::fs::layout {

inline constexpr std::uint32_t kTagsOffset = 2;
inline constexpr std::uint32_t kTagsSize = 32;
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint32_t kSuperMagic = 0x53464D56;   // "VMFS"
inline constexpr std::uint32_t kHeaderMagic = 0x4A424F56;  // "VOBJ"
inline constexpr std::uint32_t kRootId = 1;
inline constexpr std::uint32_t kSuperId = 0xFFFFFFF0;  // owner of superblock pages
inline constexpr std::uint32_t kMaxObjectId = 0xFFFFFF00;

enum class Kind : std::uint8_t { data = 1, header = 2, super = 3 };

struct Tags {
  Kind kind = Kind::data;
  std::uint8_t flags = 0;
  std::uint16_t bytes = 0;  // data: valid bytes in the page; header/super: encoded length
  std::uint32_t object = 0;
  std::uint32_t chunk = 0;        // data: chunk index; otherwise 0
  std::uint32_t version = 0;      // data: file version written; header: committed version
  std::uint32_t seq = 0;          // sequence number of the block
  std::uint32_t erase_count = 0;  // of the block, when it was opened
  std::uint32_t data_crc = 0;     // checksum of main[0, bytes)
};

enum class TagState : std::uint8_t { valid, erased, garbage };

// Writes the tags (and the tag checksum) into a spare buffer (others 0xFF).
void encode_tags(const Tags& tags, std::span<std::uint8_t> spare);
// valid: parsed; erased: all 0xFF; garbage: checksum or field check failed,
// or a spare area too small to hold tags.
TagState decode_tags(std::span<const std::uint8_t> spare, std::uint32_t page_size, Tags& out);

// Checksum of a page's payload (XXH3, 32 bits).
std::uint32_t page_checksum(std::span<const std::uint8_t> bytes);

enum HeaderFlags : std::uint8_t { kDeleted = 1 };

struct Header {
  std::uint8_t type = 1;  // FileType
  std::uint8_t flags = 0;
  std::uint32_t parent = 0;
  std::uint32_t replaces = 0;  // rename over: the object this one replaced
  std::uint64_t size = 0;
  std::uint32_t version = 0;
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;
  std::string name;
};

inline constexpr std::uint32_t kHeaderFixed = 40;
// Encodes into main (zero-filled beyond); returns the encoded length.
std::uint32_t encode_header(const Header& header, std::span<std::uint8_t> main);
// nullopt when the magic, lengths or type are wrong.
std::optional<Header> decode_header(std::span<const std::uint8_t> main, std::uint32_t length);

struct Superblock {
  std::uint32_t magic = kSuperMagic;
  std::uint32_t version = kFormatVersion;
  std::uint32_t page_size = 0;
  std::uint32_t pages_per_block = 0;
  std::uint32_t blocks_at_format = 0;
  std::uint32_t max_name = 0;
  std::uint64_t volume_id = 0;
};

inline constexpr std::uint32_t kSuperSize = 36;  // fields + CRC
std::uint32_t encode_super(const Superblock& super, std::span<std::uint8_t> main);
enum class SuperState : std::uint8_t { ok, bad_magic, bad_version, bad_checksum };
SuperState decode_super(std::span<const std::uint8_t> main, Superblock& out);

}  // namespace vmodem::fs::layout
