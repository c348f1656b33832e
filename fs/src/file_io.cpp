// File data: copy-on-write sessions, the chunk cache, read, write, truncate
// and commit.
//
// A write session starts with a working copy of the committed chunk map.
// New data goes to new pages (version = committed + 1); the committed pages
// stay live until commit() writes the header that makes the session's map
// the committed one. A cut before that header leaves the old file intact.
#include <algorithm>
#include <array>
#include <cstring>

#include "volume.hpp"

namespace vmodem::fs {

void Volume::begin_write(Object& o) {
  if (o.dirty) return;
  o.dirty = true;
  o.wsize = o.size;
  o.wchunks = o.chunks;
  for (const auto& c : o.wchunks)
    ref(c.page);
}

void Volume::discard(Object& o) {
  if (!o.dirty) return;
  for (std::uint32_t c = 0; c < o.wchunks.size(); ++c) {
    const bool rewritten = c >= o.chunks.size() || o.wchunks[c].page != o.chunks[c].page;
    if (rewritten && o.wchunks[c].page != kNoPage) o.shadow(c);
    unref(o.wchunks[c].page);
  }
  o.wchunks.clear();
  o.cache.reset();
  o.dirty = false;
}

Result<std::uint32_t> Volume::load_chunk(Object& o, std::uint32_t c, bool working,
                                         std::span<std::uint8_t> out) {
  if (o.cache && o.cache->chunk == c && working) {
    std::memcpy(out.data(), o.cache->data.data(), geo.page_size);
    return o.cache->len;
  }
  const auto& map = working ? o.wchunks : o.chunks;
  if (c >= map.size() || map[c].page == kNoPage) {
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    return 0;
  }
  const ChunkLoc loc = map[c];
  std::uint8_t spare[nand::kMaxSpareSize];
  const bool verify = cfg.verify_data_checksums;
  // Only the chunk's valid bytes (a column read; ECC still checks the page):
  // most files of a module's file system are far smaller than a page.
  auto info = read_page(loc.page, out.first(loc.bytes),
                        verify ? std::span{spare, geo.spare_size} : std::span<std::uint8_t>{});
  if (!info) return tl::unexpected(info.error());
  if (verify) {
    layout::Tags t;
    if (layout::decode_tags({spare, geo.spare_size}, geo.page_size, t) != layout::TagState::valid ||
        layout::page_checksum({out.data(), t.bytes}) != t.data_crc) {
      return fail(Errc::corrupt, path_of(o) + ": data page checksum wrong");
    }
  }
  std::fill(out.begin() + loc.bytes, out.end(), std::uint8_t{0});
  if (auto ok = maybe_scrub(loc.page, *info); !ok && ok.error().code == Errc::power_loss) {
    return tl::unexpected(ok.error());
  }
  return loc.bytes;
}

namespace {

// Makes the cache hold chunk `c` of the working map (clean).
Status load_cache(Volume& v, Object& o, std::uint32_t c) {
  if (!o.cache) o.cache.emplace().data.resize(v.geo.page_size);
  o.cache->chunk = kNoPage;  // load from the map, not from the stale cache
  o.cache->dirty = false;
  auto loaded = v.load_chunk(o, c, true, o.cache->data);
  if (!loaded) return tl::unexpected(loaded.error());
  o.cache->chunk = c;
  o.cache->len = *loaded;
  return {};
}

}  // namespace

Status Volume::program_chunk(Object& o, std::uint32_t c, std::span<const std::uint8_t> bytes,
                             std::uint32_t len) {
  if (auto ok = reserve(1, false); !ok) return ok;
  layout::Tags t;
  t.kind = layout::Kind::data;
  t.object = o.id;
  t.chunk = c;
  t.version = o.version + 1;
  t.bytes = static_cast<std::uint16_t>(len);
  t.data_crc = layout::page_checksum(bytes.first(len));
  auto idx = append(t, bytes);
  if (!idx) return tl::unexpected(idx.error());
  ++counters.data_pages_written;
  if (o.wchunks.size() <= c) o.wchunks.resize(c + 1);
  unref(o.wchunks[c].page);
  o.wchunks[c] = ChunkLoc{*idx, static_cast<std::uint16_t>(len)};
  ref(*idx);
  return {};
}

Status Volume::flush_cache(Object& o) {
  if (!o.cache || !o.cache->dirty) return {};
  WriteCache& cache = *o.cache;
  if (auto ok = program_chunk(o, cache.chunk, cache.data, cache.len); !ok) return ok;
  cache.dirty = false;
  return {};
}

Result<std::size_t> Volume::read_at(Object& o, std::uint64_t offset, std::span<std::uint8_t> out) {
  const std::uint64_t size = o.visible_size();
  if (offset >= size) return 0;
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size - offset));
  std::array<std::uint8_t, nand::kMaxPageSize> page;
  std::size_t done = 0;
  while (done < n) {
    const std::uint64_t at = offset + done;
    const auto c = static_cast<std::uint32_t>(at / geo.page_size);
    const auto in = static_cast<std::uint32_t>(at % geo.page_size);
    const std::size_t take = std::min<std::size_t>(geo.page_size - in, n - done);
    if (in == 0 && take == geo.page_size) {  // whole chunk: straight into the caller's buffer
      auto loaded = load_chunk(o, c, o.dirty, out.subspan(done, take));
      if (!loaded) return tl::unexpected(loaded.error());
      done += take;
      continue;
    }
    auto loaded = load_chunk(o, c, o.dirty, {page.data(), geo.page_size});
    if (!loaded) return tl::unexpected(loaded.error());
    std::memcpy(out.data() + done, page.data() + in, take);
    done += take;
  }
  return n;
}

Result<std::size_t> Volume::write_at(Object& o, std::uint64_t offset,
                                     std::span<const std::uint8_t> data) {
  if (data.empty()) return 0;
  if (offset + data.size() > cfg.max_file_size || offset + data.size() < offset) {
    return fail(Errc::file_too_large, "limit " + std::to_string(cfg.max_file_size) + " bytes");
  }
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  begin_write(o);
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint64_t at = offset + done;
    const auto c = static_cast<std::uint32_t>(at / geo.page_size);
    const auto in = static_cast<std::uint32_t>(at % geo.page_size);
    const std::size_t take = std::min<std::size_t>(geo.page_size - in, data.size() - done);
    if (o.cache && o.cache->chunk != c) {
      if (auto ok = flush_cache(o); !ok) return tl::unexpected(ok.error());
      o.cache->chunk = kNoPage;
    }
    if (take == geo.page_size && done + take < data.size() && (!o.cache || o.cache->chunk != c)) {
      // A whole page this call moves past would be flushed at the next
      // chunk anyway: program it from the caller's buffer, sparing the
      // cache's zero fill and copy. Same pages, same order as via the cache.
      if (auto ok = program_chunk(o, c, data.subspan(done, take), geo.page_size); !ok) {
        return tl::unexpected(ok.error());
      }
      done += take;
      o.wsize = std::max<std::uint64_t>(o.wsize, offset + done);
      continue;
    }
    if (!o.cache || o.cache->chunk != c) {
      if (take == geo.page_size) {  // overwritten whole: no need to read it
        if (!o.cache) o.cache.emplace().data.resize(geo.page_size);
        std::fill(o.cache->data.begin(), o.cache->data.end(), std::uint8_t{0});
        o.cache->chunk = c;
        o.cache->len = 0;
        o.cache->dirty = false;
      } else if (auto ok = load_cache(*this, o, c); !ok) {
        return tl::unexpected(ok.error());
      }
    }
    std::memcpy(o.cache->data.data() + in, data.data() + done, take);
    o.cache->len = std::max<std::uint32_t>(o.cache->len, in + static_cast<std::uint32_t>(take));
    o.cache->dirty = true;
    done += take;
    o.wsize = std::max<std::uint64_t>(o.wsize, offset + done);
  }
  return data.size();
}

Status Volume::truncate(Object& o, std::uint64_t size) {
  if (size > cfg.max_file_size) return fail(Errc::file_too_large, "truncate beyond the limit");
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  begin_write(o);
  if (auto ok = flush_cache(o); !ok) return ok;
  o.cache.reset();
  if (size < o.wsize) {
    const std::uint32_t nch = chunks_for(size);
    for (std::uint32_t c = nch; c < o.wchunks.size(); ++c)
      unref(o.wchunks[c].page);
    if (o.wchunks.size() > nch) o.wchunks.resize(nch);
    const auto tail = static_cast<std::uint32_t>(size % geo.page_size);
    if (tail && nch - 1 < o.wchunks.size() && o.wchunks[nch - 1].bytes > tail) {
      // Bytes past the new end must read as zeros if the file grows again.
      if (auto ok = load_cache(*this, o, nch - 1); !ok) return ok;
      std::fill(o.cache->data.begin() + tail, o.cache->data.end(), std::uint8_t{0});
      o.cache->len = tail;
      o.cache->dirty = true;
    }
  }
  o.wsize = size;
  return {};
}

Status Volume::commit(Object& o) {
  if (!o.dirty) return {};
  if (dead) return fail(Errc::power_loss, "power was lost; mount again");
  if (auto ok = flush_cache(o); !ok) return ok;
  const std::uint32_t nch = chunks_for(o.wsize);
  o.wchunks.resize(std::max<std::size_t>(o.wchunks.size(), nch));
  const std::uint32_t version = o.version + 1;
  for (std::uint32_t c = 0; c < nch; ++c) {
    const bool kept = c < o.chunks.size() && o.wchunks[c].page == o.chunks[c].page;
    if (o.wchunks[c].page != kNoPage && !(kept && o.is_shadowed(c))) continue;
    // A hole, or an old page a leftover of this version could outrank: write
    // the chunk again under this version.
    if (auto ok = load_cache(*this, o, c); !ok) return ok;
    o.cache->dirty = true;
    if (auto ok = flush_cache(o); !ok) return ok;
  }
  for (std::uint32_t c = nch; c < o.wchunks.size(); ++c)
    unref(o.wchunks[c].page);
  o.wchunks.resize(nch);
  if (auto ok = reserve(1, true); !ok) return ok;
  auto idx = write_header(o, o.parent, o.name, version, o.wsize, 0, false);
  if (!idx) return tl::unexpected(idx.error());
  set_header(o, *idx);
  for (const auto& c : o.chunks)
    unref(c.page);
  o.chunks = std::move(o.wchunks);
  o.wchunks.clear();
  o.version = version;
  o.size = o.wsize;
  o.dirty = false;
  o.cache.reset();
  o.shadowed.clear();
  return {};
}

}  // namespace vmodem::fs
