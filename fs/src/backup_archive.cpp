// The backup image: tree walk, (de)serialization, zlib (see backup_archive.hpp).
#include "backup_archive.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

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

// The last image decoded on this thread: a restore of the same image (a
// power-cut campaign restores one backup thousands of times) skips zlib.
struct Memo {
  std::vector<std::uint8_t> decoded_from;
  Archive decoded;
};
Memo& memo() {
  thread_local Memo m;
  return m;
}

Result<Archive> decode_uncached(const std::vector<std::uint8_t>& image);

// ---- Encoding in segments ------------------------------------------------
//
// The image is one zlib stream (so any zlib reads it, and images written
// before this scheme still decode), but it is made of independently
// compressed segments: the archive header, one per entry, the CRC trailer.
// Each segment is a raw deflate stream of its own ended with a full flush,
// which byte-aligns it and lets nothing after it refer back into it, so the
// compressed bytes of an unchanged entry are the same in every image and are
// reused instead of compressed again — `=11` after the host changed one small
// file compresses that file only. The zlib trailer's Adler-32 and the
// archive's CRC-32 are combined from each segment's.

struct Segment {
  std::vector<std::uint8_t> packed;  // raw deflate, ends with a full flush
  std::uint32_t crc = 0;             // CRC-32 of its raw bytes
  std::uint32_t adler = 1;           // Adler-32 of its raw bytes
  std::size_t raw_size = 0;
};

// Compresses `raw` as a raw deflate stream; `last` ends it with the final
// block instead of a full flush.
Result<Segment> compress_segment(std::span<const std::uint8_t> raw, int level, bool last) {
  z_stream z{};
  if (deflateInit2(&z, std::clamp(level, 0, 9), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(Errc::io_error, "backup: compression failed");
  Segment seg;
  seg.packed.resize(deflateBound(&z, static_cast<uLong>(raw.size())) + 16);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = seg.packed.data();
  z.avail_out = static_cast<uInt>(seg.packed.size());
  const int ret = deflate(&z, last ? Z_FINISH : Z_FULL_FLUSH);
  const bool done = last ? ret == Z_STREAM_END : ret == Z_OK && z.avail_in == 0 && z.avail_out > 0;
  seg.packed.resize(seg.packed.size() - z.avail_out);
  deflateEnd(&z);
  if (!done) return fail(Errc::io_error, "backup: compression failed");
  seg.crc = crc32(raw);
  seg.adler = static_cast<std::uint32_t>(adler32(1, raw.data(), static_cast<uInt>(raw.size())));
  seg.raw_size = raw.size();
  return seg;
}

// Compressed entries of this thread's recent images, by path. An entry is
// reused only if type, mode, bytes and level are all equal (compared, not
// hashed: a wrong segment would be a silently wrong backup).
class SegmentCache {
 public:
  const Segment* find(const ArchiveEntry& e, int level) {
    auto it = by_path_.find(e.path);
    if (it == by_path_.end()) return nullptr;
    for (auto& c : it->second) {
      if (c.level == level && c.type == e.type && c.mode == e.mode && c.data == e.data) {
        c.last_used = generation_;
        return &c.segment;
      }
    }
    return nullptr;
  }
  void add(const ArchiveEntry& e, int level, Segment segment) {
    bytes_ += e.data.size() + segment.packed.size();
    by_path_[e.path].push_back({level, e.type, e.mode, e.data, std::move(segment), generation_});
  }
  // Called after each image: forgets what the last few images did not use
  // (both file systems of a module, backed up in turn, stay cached), and
  // everything if the cache outgrew its budget.
  void end_image() {
    ++generation_;
    if (bytes_ > kBudget) {
      by_path_.clear();
      bytes_ = 0;
      return;
    }
    for (auto it = by_path_.begin(); it != by_path_.end();) {
      auto& variants = it->second;
      std::erase_if(variants, [&](const Cached& c) {
        const bool stale = c.last_used + kKeepImages < generation_;
        if (stale) bytes_ -= c.data.size() + c.segment.packed.size();
        return stale;
      });
      it = variants.empty() ? by_path_.erase(it) : std::next(it);
    }
  }

 private:
  struct Cached {
    int level;
    FileType type;
    std::uint32_t mode;
    std::vector<std::uint8_t> data;
    Segment segment;
    std::uint64_t last_used;
  };
  static constexpr std::uint64_t kKeepImages = 4;
  static constexpr std::size_t kBudget = 64u << 20;
  std::unordered_map<std::string, std::vector<Cached>> by_path_;
  std::uint64_t generation_ = 0;
  std::size_t bytes_ = 0;
};

SegmentCache& segment_cache() {
  thread_local SegmentCache cache;
  return cache;
}

std::vector<std::uint8_t> entry_bytes(const ArchiveEntry& e) {
  std::vector<std::uint8_t> raw;
  raw.reserve(16 + e.path.size() + e.data.size());
  put32(raw, static_cast<std::uint32_t>(e.type));
  put32(raw, e.mode);
  put32(raw, static_cast<std::uint32_t>(e.path.size()));
  raw.insert(raw.end(), e.path.begin(), e.path.end());
  put32(raw, static_cast<std::uint32_t>(e.data.size()));
  raw.insert(raw.end(), e.data.begin(), e.data.end());
  return raw;
}

// Appends `seg` to the image under construction and folds in its checksums.
struct ImageBuilder {
  std::vector<std::uint8_t> body;  // the deflate data
  std::uint32_t crc = 0;           // CRC-32 of the archive so far (not the trailer)
  std::uint32_t adler = 1;         // Adler-32 of all raw bytes so far
  std::uint64_t raw_size = 0;

  void append(const Segment& seg, bool counts_in_crc) {
    body.insert(body.end(), seg.packed.begin(), seg.packed.end());
    if (counts_in_crc) crc = static_cast<std::uint32_t>(crc32_combine(crc, seg.crc, seg.raw_size));
    adler = static_cast<std::uint32_t>(adler32_combine(adler, seg.adler, seg.raw_size));
    raw_size += seg.raw_size;
  }
};

// The two-byte zlib header for a deflate stream with a 32 KB window; the
// level hint is informational (decoders ignore it).
void put_zlib_header(std::vector<std::uint8_t>& out, int level) {
  const int hint = level <= 1 ? 0 : level <= 5 ? 1 : level == 6 ? 2 : 3;
  const unsigned cmf = 0x78;
  unsigned flg = static_cast<unsigned>(hint) << 6;
  flg += 31 - (cmf * 256 + flg) % 31;
  out.push_back(static_cast<std::uint8_t>(cmf));
  out.push_back(static_cast<std::uint8_t>(flg));
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_image(const Archive& archive, int level) {
  SegmentCache& cache = segment_cache();
  ImageBuilder image;
  std::vector<std::uint8_t> header;
  put32(header, kArchiveMagic);
  put32(header, kArchiveVersion);
  put32(header, static_cast<std::uint32_t>(archive.entries.size()));
  auto head = compress_segment(header, level, false);
  if (!head) return tl::unexpected(head.error());
  image.append(*head, true);
  for (const auto& e : archive.entries) {
    if (const Segment* hit = cache.find(e, level)) {
      image.append(*hit, true);
      continue;
    }
    auto seg = compress_segment(entry_bytes(e), level, false);
    if (!seg) return tl::unexpected(seg.error());
    image.append(*seg, true);
    cache.add(e, level, std::move(*seg));
  }
  cache.end_image();
  std::vector<std::uint8_t> trailer;
  put32(trailer, image.crc);
  auto tail = compress_segment(trailer, level, true);
  if (!tail) return tl::unexpected(tail.error());
  image.append(*tail, false);
  if (image.raw_size > (256u << 20)) return fail(Errc::no_space, "backup: archive too large");

  std::vector<std::uint8_t> out;
  out.reserve(4 + 2 + image.body.size() + 4);
  put32(out, static_cast<std::uint32_t>(image.raw_size));
  put_zlib_header(out, level);
  out.insert(out.end(), image.body.begin(), image.body.end());
  for (int shift = 24; shift >= 0; shift -= 8)  // zlib's Adler-32 is big-endian
    out.push_back(static_cast<std::uint8_t>(image.adler >> shift));
  return out;
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
