// Encoding and decoding of tags, headers and the superblock.
#include "layout.hpp"

#include <algorithm>
#include <cstring>

#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
#include <xxh_x86dispatch.h>
#define VMODEM_FS_XXH3_DISPATCH 1
#endif

namespace vmodem::fs::layout {

namespace {

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

// Read once per data page: four word compares instead of a byte loop.
bool all_ones(const std::uint8_t* tags) {
  static_assert(kTagsSize % 8 == 0);
  std::uint64_t all = ~std::uint64_t{0};
  for (std::uint32_t i = 0; i < kTagsSize; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, tags + i, 8);
    all &= word;
  }
  return all == ~std::uint64_t{0};
}

}  // namespace

// Every data page is hashed on write and on read, so this is the FS's
// hottest loop. libxxhash's plain XXH3_64bits is built for baseline SSE2;
// the dispatch entry picks AVX2/AVX-512 at run time (about 3x faster on
// 2 KB) and returns the same value, so the on-flash format is unchanged.
std::uint32_t page_checksum(std::span<const std::uint8_t> bytes) {
#ifdef VMODEM_FS_XXH3_DISPATCH
  return static_cast<std::uint32_t>(XXH3_64bits_dispatch(bytes.data(), bytes.size()));
#else
  return static_cast<std::uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
#endif
}

void encode_tags(const Tags& tags, std::span<std::uint8_t> spare) {
  std::fill(spare.begin(), spare.end(), std::uint8_t{0xFF});
  std::uint8_t* p = spare.data() + kTagsOffset;
  p[0] = static_cast<std::uint8_t>(tags.kind);
  p[1] = tags.flags;
  put16(p + 2, tags.bytes);
  put32(p + 4, tags.object);
  put32(p + 8, tags.chunk);
  put32(p + 12, tags.version);
  put32(p + 16, tags.seq);
  put32(p + 20, tags.erase_count);
  put32(p + 24, tags.data_crc);
  put32(p + 28, page_checksum({p, 28}));
}

TagState decode_tags(std::span<const std::uint8_t> spare, std::uint32_t page_size, Tags& out) {
  if (spare.size() < kTagsOffset + kTagsSize) return TagState::garbage;  // no room for tags
  const std::uint8_t* p = spare.data() + kTagsOffset;
  if (all_ones(p)) return TagState::erased;
  if (get32(p + 28) != page_checksum({p, 28})) return TagState::garbage;
  out.kind = static_cast<Kind>(p[0]);
  out.flags = p[1];
  out.bytes = get16(p + 2);
  out.object = get32(p + 4);
  out.chunk = get32(p + 8);
  out.version = get32(p + 12);
  out.seq = get32(p + 16);
  out.erase_count = get32(p + 20);
  out.data_crc = get32(p + 24);
  const bool kind_ok = p[0] >= 1 && p[0] <= 3;
  if (!kind_ok || out.bytes > page_size || out.object == 0 || out.seq == 0) {
    return TagState::garbage;
  }
  return TagState::valid;
}

std::uint32_t encode_header(const Header& h, std::span<std::uint8_t> main) {
  std::fill(main.begin(), main.end(), std::uint8_t{0});
  std::uint8_t* p = main.data();
  put32(p, kHeaderMagic);
  p[4] = h.type;
  p[5] = h.flags;
  put16(p + 6, static_cast<std::uint16_t>(h.name.size()));
  put32(p + 8, h.parent);
  put32(p + 12, h.replaces);
  put64(p + 16, h.size);
  put32(p + 24, h.version);
  put32(p + 28, h.mode);
  put64(p + 32, static_cast<std::uint64_t>(h.mtime));
  std::memcpy(p + kHeaderFixed, h.name.data(), h.name.size());
  return kHeaderFixed + static_cast<std::uint32_t>(h.name.size());
}

std::optional<Header> decode_header(std::span<const std::uint8_t> main, std::uint32_t length) {
  if (length < kHeaderFixed || length > main.size()) return std::nullopt;
  const std::uint8_t* p = main.data();
  if (get32(p) != kHeaderMagic) return std::nullopt;
  Header h;
  h.type = p[4];
  h.flags = p[5];
  const std::uint16_t name_len = get16(p + 6);
  if (kHeaderFixed + name_len != length || (h.type != 1 && h.type != 2)) return std::nullopt;
  h.parent = get32(p + 8);
  h.replaces = get32(p + 12);
  h.size = get64(p + 16);
  h.version = get32(p + 24);
  h.mode = get32(p + 28);
  h.mtime = static_cast<std::int64_t>(get64(p + 32));
  h.name.assign(reinterpret_cast<const char*>(p + kHeaderFixed), name_len);
  return h;
}

std::uint32_t encode_super(const Superblock& s, std::span<std::uint8_t> main) {
  std::fill(main.begin(), main.end(), std::uint8_t{0});
  std::uint8_t* p = main.data();
  put32(p, s.magic);
  put32(p + 4, s.version);
  put32(p + 8, s.page_size);
  put32(p + 12, s.pages_per_block);
  put32(p + 16, s.blocks_at_format);
  put32(p + 20, s.max_name);
  put64(p + 24, s.volume_id);
  put32(p + 32, page_checksum({p, 32}));
  return kSuperSize;
}

SuperState decode_super(std::span<const std::uint8_t> main, Superblock& s) {
  const std::uint8_t* p = main.data();
  s.magic = get32(p);
  s.version = get32(p + 4);
  s.page_size = get32(p + 8);
  s.pages_per_block = get32(p + 12);
  s.blocks_at_format = get32(p + 16);
  s.max_name = get32(p + 20);
  s.volume_id = get64(p + 24);
  if (s.magic != kSuperMagic) return SuperState::bad_magic;
  if (get32(p + 32) != page_checksum({p, 32})) return SuperState::bad_checksum;
  if (s.version != kFormatVersion) return SuperState::bad_version;
  return SuperState::ok;
}

}  // namespace vmodem::fs::layout
