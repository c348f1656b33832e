// Mount: the tag scan and the index rebuild (probes 1-4, 6; tree in tree.cpp).
//
// Every written page's tags are read (tags-only reads, cheaper than a full
// page); a block is scanned up to its first erased page. Then, per object,
// the newest readable header wins, and per chunk the newest data page whose
// version is committed. Damage is classified last, once liveness is known: a
// bad page that is the last one written in its block (a torn write), or in a
// block without live data (a torn erase, or dead data), is explained.
#include <algorithm>

#include "volume.hpp"

namespace vmodem::fs {

namespace {

enum class Seen : std::uint8_t { erased, valid, garbage, unreadable };

struct ScanState {
  std::vector<layout::Tags> tags;
  std::vector<Seen> seen;
  std::vector<std::uint32_t> supers, data;
  // Header pages as (object, page), grouped by object in load_objects: one
  // flat vector sorted once instead of a map of small vectors (a mount is a
  // boot step, and a power-cut campaign boots thousands of times).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> headers;

  // After load_objects sorted `headers`.
  bool has_header(std::uint32_t object) const {
    auto at = std::lower_bound(headers.begin(), headers.end(), object,
                               [](const auto& h, std::uint32_t id) { return h.first < id; });
    return at != headers.end() && at->first == object;
  }
};

std::uint64_t position(const Volume& v, std::uint32_t idx) {
  return std::uint64_t{v.blocks[idx / v.ppb].seq} << 16 | (idx % v.ppb);
}

bool is_tail(const Volume& v, std::uint32_t idx) {
  return idx % v.ppb + 1 == v.blocks[idx / v.ppb].written;
}

std::int64_t blk(const Volume& v, std::uint32_t idx) {
  return idx / v.ppb;
}
std::int64_t pg(const Volume& v, std::uint32_t idx) {
  return idx % v.ppb;
}

bool geometry_supported(const Volume& v) {
  return v.geo.page_size >= 512 && v.geo.page_size <= nand::kMaxPageSize &&
         v.geo.spare_size >= layout::kTagsOffset + layout::kTagsSize &&
         v.geo.spare_size <= nand::kMaxSpareSize && v.ppb > 0 && v.ppb < 65536 &&
         v.geo.block_count >= v.cfg.reserve_blocks + 3;
}

// Reads the tags of one block up to its first erased page. false: stop the
// scan (probe 1 recorded or power lost, see `error`).
bool scan_block(Volume& v, std::uint32_t b, ScanState& s, CheckReport& report, Status& error) {
  std::uint8_t spare[nand::kMaxSpareSize];
  std::uint32_t p = 0;
  BlockState& block = v.blocks[b];
  for (; p < v.ppb; ++p) {
    const std::uint32_t idx = b * v.ppb + p;
    ++report.pages_scanned;
    auto info = v.dev.read({b, p}, {}, {spare, v.geo.spare_size});
    if (!info) {
      if (info.error().code == nand::Errc::uncorrectable) {
        s.seen[idx] = Seen::unreadable;
        continue;
      }
      error = tl::unexpected(v.device_error(info.error()));
      if (info.error().code != nand::Errc::power_loss) {
        add_failure(report, Probe::superblock_unreadable,
                    "partition unreadable: " + info.error().message(), b, p);
      }
      return false;
    }
    if (v.cfg.scrub_threshold_bits && info->max_sector_corrected >= v.cfg.scrub_threshold_bits) {
      v.scrub_candidates.push_back(idx);
    }
    const auto state = layout::decode_tags({spare, v.geo.spare_size}, v.geo.page_size, s.tags[idx]);
    if (state == layout::TagState::erased) break;
    if (state == layout::TagState::garbage) {
      s.seen[idx] = Seen::garbage;
      continue;
    }
    s.seen[idx] = Seen::valid;
    const layout::Tags& t = s.tags[idx];
    if (block.seq == 0) {
      block.seq = t.seq;
      block.erase_count = t.erase_count;
    } else if (t.seq != block.seq) {
      add_failure(report, Probe::torn_log,
                  "page carries sequence " + std::to_string(t.seq) + ", its block " +
                      std::to_string(block.seq),
                  b, p, t.object);
    }
  }
  block.written = p;
  v.set_use(b, p == 0 ? BlockUse::free_unknown : BlockUse::sealed);
  return true;
}

// Chooses the newest readable superblock. false when probe 1 or 2 failed.
bool load_super(Volume& v, ScanState& s, CheckReport& report) {
  std::sort(s.supers.begin(), s.supers.end(),
            [&](auto a, auto b) { return position(v, a) > position(v, b); });
  for (const std::uint32_t idx : s.supers) {
    auto info = v.dev.read(v.addr(idx), v.scratch, {});
    const layout::Tags& t = s.tags[idx];
    const bool readable = info.has_value();
    if (!readable && info.error().code != nand::Errc::uncorrectable) {
      if (info.error().code != nand::Errc::power_loss) {
        add_failure(report, Probe::superblock_unreadable, info.error().message(), blk(v, idx),
                    pg(v, idx));
      }
      (void)v.device_error(info.error());  // power loss: the instance is dead
      return false;
    }
    const bool crc_ok =
        readable && layout::page_checksum({v.scratch.data(), t.bytes}) == t.data_crc;
    if (!crc_ok && is_tail(v, idx)) {
      ++report.torn_pages_explained;  // a GC copy of the superblock cut short
      continue;
    }
    if (!readable) {
      add_failure(report, Probe::superblock_unreadable, "superblock page uncorrectable",
                  blk(v, idx), pg(v, idx));
      return false;
    }
    layout::Superblock sb;
    const auto state = layout::decode_super(v.scratch, sb);
    std::string why;
    if (!crc_ok || state == layout::SuperState::bad_checksum) why = "superblock checksum wrong";
    if (state == layout::SuperState::bad_magic) why = "format marker wrong";
    if (state == layout::SuperState::bad_version) {
      why = "format version " + std::to_string(sb.version) + " unsupported";
    }
    if (why.empty() && (sb.page_size != v.geo.page_size || sb.pages_per_block != v.ppb)) {
      why = "superblock geometry differs from the partition";
    }
    if (!why.empty()) {
      add_failure(report, Probe::bad_format, why, blk(v, idx), pg(v, idx));
      return false;
    }
    v.super = sb;
    v.super_page = idx;
    v.ref(idx);
    return true;
  }
  add_failure(report, Probe::superblock_unreadable, "no superblock found (not formatted?)");
  return false;
}

// Probe 4: a header written later must not carry an older version. One
// exception, and a common one: a cut while a commit header was programmed
// leaves it torn at the tail of its block; the mount rolls that commit back
// and writes go on in other blocks, so the object's next header (a rename,
// the tombstone of a delete) carries the older version at a newer position.
// Such a tail is not compared (`list` is newest first).
void check_version_order(const Volume& v, std::uint32_t object,
                         const std::vector<std::uint32_t>& list, const ScanState& s,
                         CheckReport& report) {
  std::uint32_t newer = kNoPage;
  for (const std::uint32_t idx : list) {
    if (newer != kNoPage && s.tags[newer].version < s.tags[idx].version) {
      if (is_tail(v, idx)) continue;
      add_failure(report, Probe::torn_log, "object header older than an earlier one (version)",
                  blk(v, newer), pg(v, newer), object);
    }
    newer = idx;
  }
}

// Reads the newest readable header of one object; falls back past torn ones.
std::optional<std::pair<std::uint32_t, layout::Header>> newest_header(
    Volume& v, std::uint32_t object, const std::vector<std::uint32_t>& list, ScanState& s,
    CheckReport& report) {
  check_version_order(v, object, list, s, report);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::uint32_t idx = list[i];
    const layout::Tags& t = s.tags[idx];
    // Only the encoded header (a column read; ECC still checks the page):
    // a mount reads every object's header.
    auto info = v.dev.read(v.addr(idx), {v.scratch.data(), t.bytes}, {});
    const bool readable = info.has_value();
    if (!readable && info.error().code != nand::Errc::uncorrectable) {
      (void)v.device_error(info.error());
      return std::nullopt;
    }
    const bool crc_ok =
        readable && layout::page_checksum({v.scratch.data(), t.bytes}) == t.data_crc;
    std::optional<layout::Header> h;
    if (crc_ok) h = layout::decode_header({v.scratch.data(), t.bytes}, t.bytes);
    if (h) return std::make_pair(idx, *h);
    if (is_tail(v, idx)) {
      ++report.torn_pages_explained;
      continue;
    }
    add_failure(report, Probe::metadata_ecc,
                !readable ? "object header uncorrectable"
                          : (crc_ok ? "object header undecodable" : "object header checksum wrong"),
                blk(v, idx), pg(v, idx), object);
  }
  return std::nullopt;
}

void load_objects(Volume& v, ScanState& s, CheckReport& report,
                  std::unordered_map<std::uint32_t, std::uint64_t>& header_pos) {
  // By object, and per object newest first.
  std::sort(s.headers.begin(), s.headers.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return position(v, a.second) > position(v, b.second);
  });
  header_pos.reserve(s.headers.size());
  v.objects.reserve(s.headers.size());
  std::vector<std::uint32_t> list;
  for (std::size_t at = 0; at < s.headers.size();) {
    const std::uint32_t object = s.headers[at].first;
    list.clear();
    for (; at < s.headers.size() && s.headers[at].first == object; ++at)
      list.push_back(s.headers[at].second);
    auto found = newest_header(v, object, list, s, report);
    if (v.dead) return;
    if (!found) continue;
    const auto& [idx, h] = *found;
    header_pos[object] = position(v, idx);
    if (object == layout::kRootId) {
      add_failure(report, Probe::object_tree, "a header claims the root's id", blk(v, idx),
                  pg(v, idx), object);
      continue;
    }
    if (h.flags & layout::kDeleted) {
      v.ghosts[object] = Ghost{idx};
      continue;
    }
    Object o;
    o.id = object;
    o.type = static_cast<FileType>(h.type);
    o.parent = h.parent;
    o.name = h.name;
    o.mode = h.mode;
    o.mtime = h.mtime;
    o.version = h.version;
    o.size = h.size;
    o.replaces = h.replaces;
    o.header = idx;
    v.objects.emplace(object, std::move(o));
  }
}

// Picks, per chunk of each file, the newest committed page.
void load_data(Volume& v, ScanState& s, CheckReport& report) {
  std::unordered_map<std::uint32_t, bool> reported;
  for (const std::uint32_t idx : s.data) {
    const layout::Tags& t = s.tags[idx];
    auto it = v.objects.find(t.object);
    if (it == v.objects.end()) {
      if (!v.ghosts.count(t.object) && !s.has_header(t.object) && !reported[t.object]) {
        reported[t.object] = true;
        add_failure(report, Probe::object_tree, "data page of an object without any header",
                    blk(v, idx), pg(v, idx), t.object);
      }
      continue;
    }
    Object& o = it->second;
    if (o.type != FileType::file || t.version > o.version + 1) {
      add_failure(report, o.type != FileType::file ? Probe::object_tree : Probe::torn_log,
                  o.type != FileType::file ? "data page of a directory"
                                           : "data page newer than any commit of its file",
                  blk(v, idx), pg(v, idx), t.object);
      continue;
    }
    const std::uint32_t nch = v.chunks_for(o.size);
    if (t.version > o.version) {  // an uncommitted session's leftover
      o.shadow(t.chunk);
      continue;
    }
    if (t.chunk >= nch) continue;
    if (o.chunks.size() != nch) o.chunks.assign(nch, ChunkLoc{});
    // The newest page wins; the chunk's current page gives its position (no
    // side table of positions per object).
    ChunkLoc& loc = o.chunks[t.chunk];
    if (loc.page == kNoPage || position(v, idx) >= position(v, loc.page)) {
      loc = ChunkLoc{idx, t.bytes};
    }
  }
}

void link_pages(Volume& v, CheckReport& report) {
  for (auto& [id, o] : v.objects) {
    v.ref(o.header);
    if (o.type != FileType::file) continue;
    const std::uint32_t nch = v.chunks_for(o.size);
    o.chunks.resize(nch);
    for (std::uint32_t c = 0; c < nch; ++c) {
      if (o.chunks[c].page == kNoPage) {
        add_failure(report, Probe::file_length,
                    "size " + std::to_string(o.size) + " but chunk " + std::to_string(c) +
                        " has no data page",
                    -1, -1, id);
        break;
      }
    }
    for (const auto& c : o.chunks)
      v.ref(c.page);
  }
  for (auto& [id, g] : v.ghosts) {
    if (v.phys[id] > 1) v.ref(g.tomb);
  }
}

void classify_damage(Volume& v, ScanState& s, CheckReport& report) {
  for (std::uint32_t idx = 0; idx < s.seen.size(); ++idx) {
    if (s.seen[idx] != Seen::garbage && s.seen[idx] != Seen::unreadable) continue;
    if (is_tail(v, idx) || v.blocks[idx / v.ppb].live == 0) {
      ++report.torn_pages_explained;
      continue;
    }
    if (s.seen[idx] == Seen::unreadable) {
      add_failure(report, Probe::metadata_ecc, "uncorrectable tags inside a block with live data",
                  blk(v, idx), pg(v, idx));
    } else {
      add_failure(report, Probe::torn_log, "page with a bad tag checksum inside the log",
                  blk(v, idx), pg(v, idx));
    }
  }
}

// The page programmed last before a cut may be marginal (torn_unstable): it
// can pass one read and fail the next. Read it whole a few times; if any
// read fails, treat it as the torn tail it is (explained, ignored).
Status verify_last_page(Volume& v, ScanState& s, std::uint32_t idx) {
  if (s.seen[idx] != Seen::valid) return {};
  std::uint8_t spare[nand::kMaxSpareSize];
  for (int i = 0; i < 4; ++i) {
    auto info = v.dev.read(v.addr(idx), v.scratch, {spare, v.geo.spare_size});
    if (info) continue;
    if (info.error().code != nand::Errc::uncorrectable) {
      return tl::unexpected(v.device_error(info.error()));
    }
    s.seen[idx] = Seen::unreadable;
    return {};
  }
  return {};
}

}  // namespace

Status Volume::scan(CheckReport& report) {
  if (!geometry_supported(*this)) {
    add_failure(report, Probe::superblock_unreadable, "unsupported partition geometry");
    return {};
  }
  ScanState s;
  s.tags.resize(pages.size());
  s.seen.assign(pages.size(), Seen::erased);
  std::unordered_map<std::uint32_t, std::uint32_t> seq_owner;
  seq_owner.reserve(blocks.size());
  std::uint32_t max_seq = 0, newest = kNoBlock;
  for (std::uint32_t b = 0; b < blocks.size(); ++b) {
    auto bad = dev.is_bad(b);
    if (!bad) {
      if (bad.error().code == nand::Errc::power_loss)
        return tl::unexpected(device_error(bad.error()));
      add_failure(report, Probe::superblock_unreadable, bad.error().message(), b);
      return {};
    }
    if (*bad) {
      set_use(b, BlockUse::bad);
      continue;
    }
    Status error;
    if (!scan_block(*this, b, s, report, error)) return error;
    const std::uint32_t seq = blocks[b].seq;
    if (seq == 0) continue;
    if (auto [it, fresh] = seq_owner.emplace(seq, b); !fresh) {
      add_failure(report, Probe::torn_log,
                  "blocks " + std::to_string(it->second) + " and " + std::to_string(b) +
                      " share sequence " + std::to_string(seq),
                  b);
    }
    if (seq > max_seq) {
      max_seq = seq;
      newest = b;
    }
  }
  next_seq = max_seq + 1;
  if (newest != kNoBlock) {
    last_page = newest * ppb + blocks[newest].written - 1;
    if (auto ok = verify_last_page(*this, s, last_page); !ok) return ok;
  }
  for (std::uint32_t idx = 0; idx < pages.size(); ++idx) {
    if (s.seen[idx] != Seen::valid) continue;
    const layout::Tags& t = s.tags[idx];
    pages[idx] = PageState{t.object, t.chunk, t.kind, 0};
    ++phys[t.object];
    if (t.object < layout::kMaxObjectId) next_id = std::max(next_id, t.object + 1);
    if (t.kind == layout::Kind::super) s.supers.push_back(idx);
    if (t.kind == layout::Kind::header) s.headers.emplace_back(t.object, idx);
    if (t.kind == layout::Kind::data) s.data.push_back(idx);
  }
  if (!load_super(*this, s, report)) return dead_error();
  std::unordered_map<std::uint32_t, std::uint64_t> header_pos;
  load_objects(*this, s, report, header_pos);
  if (dead) return dead_error();
  Object root;
  root.id = layout::kRootId;
  root.type = FileType::directory;
  root.mode = 0755;
  objects[layout::kRootId] = std::move(root);
  build_tree(report, header_pos);
  load_data(*this, s, report);
  link_pages(*this, report);
  classify_damage(*this, s, report);
  report.objects = static_cast<std::uint32_t>(objects.size());
  // Erase counts of blocks found erased are unknown: assume the average.
  std::uint64_t sum = 0, known = 0;
  for (const auto& b : blocks) {
    if (b.seq) sum += b.erase_count, ++known;
  }
  for (auto& b : blocks) {
    if (!b.seq && known) b.erase_count = static_cast<std::uint32_t>(sum / known);
  }
  return {};
}

Status Volume::recover() {
  for (Object& x : pending_tombstones) {
    if (auto ok = reserve(1, true); !ok) return ok;
    auto tomb = write_header(x, x.parent, x.name, x.version, x.size, 0, true);
    if (!tomb) return tl::unexpected(tomb.error());
    ghosts[x.id] = Ghost{*tomb};
    ref(*tomb);
  }
  pending_tombstones.clear();
  // The last page written before the cut may be marginal (a torn_unstable
  // program that happened to read back): keep only a fresh copy live.
  if (last_page != kNoPage && pages[last_page].refs) {
    if (auto ok = reserve(1, true); !ok) return ok;
    if (auto ok = relocate(last_page); !ok && ok.error().code == Errc::power_loss) return ok;
  }
  for (const std::uint32_t idx : scrub_candidates) {
    if (!pages[idx].refs) continue;
    if (auto ok = reserve(1, true); !ok) return ok;
    ++counters.pages_scrubbed;
    if (auto ok = relocate(idx); !ok && ok.error().code == Errc::power_loss) return ok;
  }
  scrub_candidates.clear();
  return {};
}

}  // namespace vmodem::fs
