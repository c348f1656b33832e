// Linux's page cache in front of a file system, as a QuecOpen (EC2x)
// module's application scripts meet it: a file written is in RAM, not on
// NAND, until something writes it back — sync(), fsync() on it, the
// flusher thread once it has been dirty longer than the expiry
// (dirty_expire_centisecs, 30 s), or memory pressure (dirty bytes over the
// limit). Write-back does not follow program order: a file written last
// can reach NAND first. A power cut loses what was not written back.
//
// This is what makes a backup script's order matter: copy the files, sync,
// write the tag file, sync — and what happens when a script does not sync.
//
// The model, kept deliberately small:
//   * file data is cached whole per path (a write replaces the file's
//     content, as cp and a shell redirect do);
//   * namespace changes (creating a file, mkdir, unlink, rename, rmdir) go
//     to the file system at once, in order, as UBIFS journals them — so a
//     file created and never written back is there after a cut, empty (or
//     with its old content);
//   * the flusher runs at arbitrary moments: after each call, with
//     probability 1 / flusher_one_in, it writes back one dirty file picked
//     at random — both drawn from `seed`, so a run is reproducible and a
//     power cut finds a seed-dependent set of files on NAND.
// Not thread-safe: one owner (the module's io thread, or a test).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/rng.hpp>

namespace vmodem::fs {

struct WriteBackConfig {
  // A file dirty this long is written back by tick() (Linux: 30 s).
  std::int64_t expire_ms = 30'000;
  // Dirty bytes above this are written back, oldest first, until under it.
  std::uint64_t dirty_limit_bytes = 4u << 20;
  // The flusher writes one dirty file back after a call with probability
  // 1 / flusher_one_in (0: never; then only sync, fsync, tick and pressure).
  std::uint32_t flusher_one_in = 0;
  std::uint64_t seed = 1;
};

struct WriteBackCounters {
  std::uint64_t written_back = 0;  // files written to the file system
  std::uint64_t by_flusher = 0;    // of them, by the random flusher
  std::uint64_t by_expiry = 0;
  std::uint64_t by_pressure = 0;
};

class WriteBack {
 public:
  // `fs` must outlive this; `now_ms` is the module's clock.
  WriteBack(FileSystem& fs, WriteBackConfig config, std::function<std::int64_t()> now_ms);

  // Replaces the content of file `path` in the cache. A file that does not
  // exist is created (empty) in the file system first; the errors are the
  // file system's (not_found for a missing directory, is_dir, ...).
  Status write_file(std::string_view path, std::span<const std::uint8_t> data);
  // The cached content if dirty, else the file system's.
  Result<std::vector<std::uint8_t>> read_file(std::string_view path);

  // Namespace changes, through to the file system at once; a dirty file's
  // cached content follows a rename (of it or of a directory above it) and
  // is dropped by unlink.
  Status mkdir(std::string_view path);
  Status rmdir(std::string_view path);
  Status unlink(std::string_view path);
  Status rename(std::string_view from, std::string_view to);

  // Writes back file `path` (nothing to do when it is clean).
  Status fsync(std::string_view path);
  // Writes back every dirty file, oldest first.
  Status sync();
  // The flusher's periodic pass: files dirty for expire_ms or longer, then
  // memory pressure.
  Status tick();

  std::size_t dirty_files() const { return dirty_.size(); }
  std::uint64_t dirty_bytes() const { return dirty_bytes_; }
  bool dirty(std::string_view path) const;
  const WriteBackCounters& counters() const { return counters_; }

 private:
  struct Dirty {
    std::vector<std::uint8_t> data;
    std::int64_t since_ms = 0;  // when it became dirty (later writes keep it)
    std::uint64_t order = 0;    // the order files became dirty: oldest first
  };
  using DirtyMap = std::map<std::string, Dirty, std::less<>>;

  Status write_back(DirtyMap::iterator entry);
  Status write_back_oldest_while(const std::function<bool(const Dirty&)>& due,
                                 std::uint64_t& counter);
  Status relieve_pressure();
  // The flusher's chance after a call; passes `status` through (its own
  // error, a power cut, wins when the call itself succeeded).
  Status maybe_flush(Status status);

  FileSystem& fs_;
  WriteBackConfig config_;
  std::function<std::int64_t()> now_ms_;
  nand::Rng rng_;
  DirtyMap dirty_;
  std::uint64_t dirty_bytes_ = 0;
  std::uint64_t next_order_ = 0;
  WriteBackCounters counters_;
};

}  // namespace vmodem::fs
