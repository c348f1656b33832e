// The backup image: tree walk, (de)serialization, zlib (see backup_archive.hpp).
#include "backup_archive.hpp"

#include <algorithm>
#include <cstring>

#include <zlib.h>

namespace vmodem::fs::backup_detail {

namespace {

constexpr std::uint32_t kArchiveMagic = 0x414B4256;  // "VBKA"
constexpr std::uint32_t kArchiveVersion = 1;

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Bounds-checked little-endian reader: any overrun marks the input bad.
struct Reader {
  const std::vector<std::uint8_t>& in;
  std::size_t pos = 0;
  bool ok = true;
  std::uint32_t u32() {
    if (in.size() - pos < 4) {
      ok = false;
      return 0;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= std::uint32_t{in[pos + i]} << (8 * i);
    pos += 4;
    return v;
  }
  bool take(std::size_t n, const std::uint8_t** at) {
    if (in.size() - pos < n) return ok = false;
    *at = in.data() + pos;
    pos += n;
    return true;
  }
};

Status walk(FileSystem& fs, const std::string& dir, Archive& out) {
  auto list = fs.readdir(dir);
  if (!list) return tl::unexpected(list.error());
  for (const auto& entry : *list) {
    const std::string path = (dir == "/" ? dir : dir + "/") + entry.name;
    auto st = fs.stat(path);
    if (!st) return tl::unexpected(st.error());
    ArchiveEntry e{entry.type, st->mode, path, {}};
    if (entry.type == FileType::file) {
      auto data = fs.read_file(path);
      if (!data) return tl::unexpected(data.error());
      e.data = std::move(*data);
    }
    out.entries.push_back(std::move(e));
    if (entry.type == FileType::directory) {
      if (auto s = walk(fs, path, out); !s) return s;
    }
  }
  return {};
}

}  // namespace

std::uint32_t Archive::files() const {
  return static_cast<std::uint32_t>(std::count_if(
      entries.begin(), entries.end(), [](const auto& e) { return e.type == FileType::file; }));
}

Result<Archive> read_tree(FileSystem& fs) {
  Archive archive;
  if (auto s = walk(fs, "/", archive); !s) return tl::unexpected(s.error());
  return archive;
}

namespace {

// The last image encoded and decoded on this thread. A backup of an unchanged
// tree (the module backs up the same file system again and again; a
// power-cut campaign replays one backup thousands of times) and a restore of
// the same image skip zlib: same input bytes, same output bytes.
struct Memo {
  int level = -1;
  Archive encoded;  // encode: archive -> image
  std::vector<std::uint8_t> image;
  std::vector<std::uint8_t> decoded_from;
  Archive decoded;  // decode: image -> archive
};

bool same(const Archive& a, const Archive& b) {
  return std::equal(a.entries.begin(), a.entries.end(), b.entries.begin(), b.entries.end(),
                    [](const ArchiveEntry& x, const ArchiveEntry& y) {
                      return x.type == y.type && x.mode == y.mode && x.path == y.path &&
                             x.data == y.data;
                    });
}
Memo& memo() {
  thread_local Memo m;
  return m;
}

Result<Archive> decode_uncached(const std::vector<std::uint8_t>& image);

}  // namespace

Result<std::vector<std::uint8_t>> encode_image(const Archive& archive, int level) {
  Memo& m = memo();
  if (m.level == level && same(m.encoded, archive)) return m.image;
  std::size_t size = 16;
  for (const auto& e : archive.entries)
    size += 16 + e.path.size() + e.data.size();
  std::vector<std::uint8_t> raw;
  raw.reserve(size);
  put32(raw, kArchiveMagic);
  put32(raw, kArchiveVersion);
  put32(raw, static_cast<std::uint32_t>(archive.entries.size()));
  for (const auto& e : archive.entries) {
    put32(raw, static_cast<std::uint32_t>(e.type));
    put32(raw, e.mode);
    put32(raw, static_cast<std::uint32_t>(e.path.size()));
    raw.insert(raw.end(), e.path.begin(), e.path.end());
    put32(raw, static_cast<std::uint32_t>(e.data.size()));
    raw.insert(raw.end(), e.data.begin(), e.data.end());
  }
  put32(raw, crc32(raw));

  uLongf packed_len = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> image(4 + packed_len);
  if (compress2(image.data() + 4, &packed_len, raw.data(), static_cast<uLong>(raw.size()),
                std::clamp(level, 0, 9)) != Z_OK)
    return fail(Errc::io_error, "backup: compression failed");
  image.resize(4 + packed_len);
  const auto raw_len = static_cast<std::uint32_t>(raw.size());
  for (int i = 0; i < 4; ++i)
    image[i] = static_cast<std::uint8_t>(raw_len >> (8 * i));
  m.level = level;
  m.encoded = archive;
  m.image = image;
  return image;
}

Result<Archive> decode_image(const std::vector<std::uint8_t>& image) {
  Memo& m = memo();
  if (!m.decoded_from.empty() && m.decoded_from == image) return m.decoded;
  auto archive = decode_uncached(image);
  if (archive) {
    m.decoded_from = image;
    m.decoded = *archive;
  }
  return archive;
}

namespace {

Result<Archive> decode_uncached(const std::vector<std::uint8_t>& image) {
  if (image.size() < 4) return fail(Errc::corrupt, "backup image: too short");
  std::uint32_t raw_len = 0;
  for (int i = 0; i < 4; ++i)
    raw_len |= std::uint32_t{image[i]} << (8 * i);
  if (raw_len < 16 || raw_len > (256u << 20))
    return fail(Errc::corrupt, "backup image: bad length");
  std::vector<std::uint8_t> raw(raw_len);
  uLongf out_len = raw_len;
  if (uncompress(raw.data(), &out_len, image.data() + 4, static_cast<uLong>(image.size() - 4)) !=
          Z_OK ||
      out_len != raw_len)
    return fail(Errc::corrupt, "backup image: zlib stream damaged");
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= std::uint32_t{raw[raw_len - 4 + i]} << (8 * i);
  if (stored != crc32({raw.data(), raw_len - 4}))
    return fail(Errc::corrupt, "backup image: archive CRC mismatch");
  raw.resize(raw_len - 4);

  Reader in{raw};
  Archive archive;
  if (in.u32() != kArchiveMagic || in.u32() != kArchiveVersion)
    return fail(Errc::corrupt, "backup image: not an archive");
  const std::uint32_t count = in.u32();
  for (std::uint32_t i = 0; i < count && in.ok; ++i) {
    ArchiveEntry e;
    const std::uint32_t type = in.u32();
    e.type = static_cast<FileType>(type);
    e.mode = in.u32();
    const std::uint8_t* at = nullptr;
    const std::uint32_t path_len = in.u32();
    if (!in.take(path_len, &at)) break;
    e.path.assign(reinterpret_cast<const char*>(at), path_len);
    const std::uint32_t size = in.u32();
    if (!in.take(size, &at)) break;
    e.data.assign(at, at + size);
    if (type != 1 && type != 2) in.ok = false;
    archive.entries.push_back(std::move(e));
  }
  if (!in.ok || in.pos != raw.size()) return fail(Errc::corrupt, "backup image: malformed entry");
  return archive;
}

}  // namespace

Status write_tree(FileSystem& fs, const Archive& archive) {
  for (const auto& e : archive.entries) {
    if (e.type == FileType::directory) {
      if (auto s = fs.mkdir(e.path, e.mode); !s) return s;
      continue;
    }
    auto h = fs.open(e.path, kWrite | kCreate | kTruncate, e.mode);
    if (!h) return tl::unexpected(h.error());
    auto w = fs.write(*h, e.data);
    if (!w) {
      (void)fs.close_discard(*h);
      return tl::unexpected(w.error());
    }
    if (auto s = fs.close(*h); !s) return s;
  }
  return fs.sync();
}

}  // namespace vmodem::fs::backup_detail
