// The in-memory state of a mounted file system and the operations on it.
//
// Volume is split over several files by concern:
//   store.cpp   page append, block allocation, reference counts, GC, wear
//               levelling, bad-block retirement, scrubbing
//   scan.cpp    mount: the tag scan and index rebuild (probes 1-4)
//   tree.cpp    probes 5-9 on the rebuilt index, critical files, deep check
//   namespace.cpp  paths, create, mkdir, unlink, rmdir, rename
//   file_io.cpp    chunk cache, read, write, truncate, commit
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <vmodem/fs/filesystem.hpp>

#include "layout.hpp"

namespace vmodem::fs {

inline constexpr std::uint32_t kNoPage = 0xFFFFFFFF;
inline constexpr std::uint32_t kNoBlock = 0xFFFFFFFF;

struct ChunkLoc {
  std::uint32_t page = kNoPage;
  std::uint16_t bytes = 0;
};

// The chunk being written, kept in RAM so small writes do not each cost a
// page program.
struct WriteCache {
  std::uint32_t chunk = 0;
  std::vector<std::uint8_t> data;  // page_size bytes
  std::uint32_t len = 0;           // valid bytes
  bool dirty = false;
};

struct Object {
  std::uint32_t id = 0;
  FileType type = FileType::file;
  std::uint32_t parent = 0;
  std::string name;
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;
  std::uint32_t header = kNoPage;  // newest header page
  // Committed state (what a power cut leaves visible).
  std::uint32_t version = 0;
  std::uint64_t size = 0;
  std::vector<ChunkLoc> chunks;
  // Write session (copy-on-write until commit).
  bool dirty = false;
  std::uint64_t wsize = 0;
  std::vector<ChunkLoc> wchunks;
  std::optional<WriteCache> cache;
  std::uint32_t open_count = 0;
  std::map<std::string, std::uint32_t, std::less<>> children;  // directories
  // Chunks with pages of version `version + 1` left on flash by a session
  // that never committed (power cut or failed close). The next commit copies
  // these chunks forward so the leftovers can never win a later scan.
  // Kept sorted: a cut inside a large write leaves thousands of them, and
  // commit asks once per chunk.
  std::vector<std::uint32_t> shadowed;
  std::uint32_t replaces = 0;  // scan only: from the newest header

  bool is_shadowed(std::uint32_t chunk) const {
    return std::binary_search(shadowed.begin(), shadowed.end(), chunk);
  }
  void shadow(std::uint32_t chunk) {
    auto at = std::lower_bound(shadowed.begin(), shadowed.end(), chunk);
    if (at == shadowed.end() || *at != chunk) shadowed.insert(at, chunk);
  }

  std::uint64_t visible_size() const { return dirty ? wsize : size; }
};

// A deleted object whose tombstone must stay on flash while any older page
// of it still exists (else a later mount would resurrect it).
struct Ghost {
  std::uint32_t tomb = kNoPage;
};

struct PageState {
  std::uint32_t object = 0;  // 0: unused / unreadable
  std::uint32_t chunk = 0;
  layout::Kind kind = layout::Kind::data;
  std::uint8_t refs = 0;  // references from the index; live when > 0
};

enum class BlockUse : std::uint8_t { free_unknown, free_clean, active, sealed, bad };

struct BlockState {
  BlockUse use = BlockUse::free_unknown;
  std::uint32_t seq = 0;
  std::uint32_t erase_count = 0;
  std::uint32_t written = 0;  // pages programmed (or torn) from page 0
  std::uint32_t live = 0;
  bool gc_skip = false;  // held a page GC could not read: left alone
};

struct OpenFile {
  std::uint32_t object = 0;
  std::uint64_t pos = 0;
  std::uint32_t flags = 0;
  bool used = false;
};

class Volume {
 public:
  Volume(nand::Device& device, const Config& config);

  // --- state (shared by the files listed above) ---
  nand::Device& dev;
  Config cfg;
  nand::Geometry geo;
  std::uint32_t ppb = 0;
  std::vector<BlockState> blocks;
  std::vector<PageState> pages;
  std::unordered_map<std::uint32_t, Object> objects;
  std::unordered_map<std::uint32_t, Ghost> ghosts;
  std::unordered_map<std::uint32_t, std::uint32_t> phys;  // readable pages per object
  std::uint32_t super_page = kNoPage;
  layout::Superblock super;
  std::uint32_t active = kNoBlock;
  std::uint32_t next_seq = 1;
  std::uint32_t next_id = 2;
  std::uint32_t live_pages = 0;
  std::int64_t free_count = 0;  // blocks in free_clean / free_unknown
  std::int64_t bad_count = 0;
  std::uint32_t gc_runs = 0;
  bool dead = false;
  bool read_only = false;
  FsCounters counters;
  std::vector<OpenFile> handles;
  std::vector<std::uint8_t> scratch;  // one page for headers and copies

  // --- store.cpp ---
  Error device_error(const nand::Error& error);
  // power_loss when the instance is dead, success otherwise.
  Status dead_error() const;
  nand::PageAddr addr(std::uint32_t idx) const { return {idx / ppb, idx % ppb}; }
  void ref(std::uint32_t idx);
  void unref(std::uint32_t idx);
  // Programs one page at the end of the log; `main` empty or page_size bytes.
  Result<std::uint32_t> append(layout::Tags tags, std::span<const std::uint8_t> main);
  // Makes room for `n` new pages (GC as needed). meta: may use the
  // metadata reserve.
  Status reserve(std::uint32_t n, bool meta);
  // Moves a live page to the end of the log and repoints the index.
  Status relocate(std::uint32_t idx);
  // One GC step. false when there was nothing to reclaim.
  Result<bool> gc_once();
  // Block state changes go through here so the free / bad counts stay exact.
  void set_use(std::uint32_t block, BlockUse use);
  std::uint32_t free_blocks() const;
  std::uint32_t good_blocks() const;
  std::uint32_t bad_blocks() const;
  std::uint64_t usable_pages() const;
  // Reads a page, scrubbing it when ECC needed many corrections.
  Result<nand::ReadInfo> read_page(std::uint32_t idx, std::span<std::uint8_t> main,
                                   std::span<std::uint8_t> spare);
  Status maybe_scrub(std::uint32_t idx, const nand::ReadInfo& info);

  // --- namespace.cpp ---
  Result<Object*> lookup(std::string_view path);
  Result<std::pair<Object*, std::string>> lookup_parent(std::string_view path);
  std::string path_of(const Object& object) const;
  Result<std::uint32_t> write_header(const Object& o, std::uint32_t parent, const std::string& name,
                                     std::uint32_t version, std::uint64_t size,
                                     std::uint32_t replaces, bool deleted);
  Status set_header(Object& o, std::uint32_t idx);
  Result<Object*> create(Object& parent, const std::string& name, FileType type,
                         std::uint32_t mode);
  Status remove(Object& o);  // writes the tombstone and forgets the object
  Status rename(std::string_view from, std::string_view to);

  // --- file_io.cpp ---
  void begin_write(Object& o);
  void discard(Object& o);
  Status commit(Object& o);
  Status flush_cache(Object& o);
  // Appends `bytes` (page_size, zero-padded past `len`) as chunk `c` of the
  // working map.
  Status program_chunk(Object& o, std::uint32_t c, std::span<const std::uint8_t> bytes,
                       std::uint32_t len);
  Result<std::size_t> read_at(Object& o, std::uint64_t offset, std::span<std::uint8_t> out);
  Result<std::size_t> write_at(Object& o, std::uint64_t offset, std::span<const std::uint8_t> data);
  Status truncate(Object& o, std::uint64_t size);
  // Reads chunk `c` of the committed (or working) map into `out` (page_size).
  Result<std::uint32_t> load_chunk(Object& o, std::uint32_t c, bool working,
                                   std::span<std::uint8_t> out);
  std::uint32_t chunks_for(std::uint64_t size) const {
    return static_cast<std::uint32_t>((size + geo.page_size - 1) / geo.page_size);
  }

  // --- scan.cpp ---
  // Rebuilds the index from flash, appending failures of probes 1-6 to
  // `report`. Returns an error only for power loss.
  Status scan(CheckReport& report);
  // Writes left undone by a cut (rename-over tombstones), copies the last
  // written page forward, scrubs pages the scan found marginal.
  Status recover();
  std::vector<Object> pending_tombstones;
  std::vector<std::uint32_t> scrub_candidates;
  std::uint32_t last_page = kNoPage;  // highest-positioned page found by the scan

  // --- tree.cpp ---
  // Links objects into their parents' children; finishes rename-over.
  void build_tree(CheckReport& report, const std::unordered_map<std::uint32_t, std::uint64_t>& pos);
  void check_tree(CheckReport& report);
  void check_space(CheckReport& report);
  void check_critical(const std::vector<CriticalFile>& files, CheckReport& report);
  void check_data(CheckReport& report);
};

void add_failure(CheckReport& report, Probe probe, std::string message, std::int64_t block = -1,
                 std::int64_t page = -1, std::uint32_t object = 0, std::string path = {});
void sort_failures(CheckReport& report);

}  // namespace vmodem::fs
