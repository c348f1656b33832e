// vmodem's NAND file system: log-structured, YAFFS2-style, on a nand::Device.
//
// On flash: every programmed page carries tags in its spare area (kind,
// object id, chunk index, version, block sequence number, erase count, byte
// count, data checksum, tag checksum). Pages are appended to the open block;
// a block's pages share one sequence number, so (sequence, page) orders every
// write. An object header page (name, parent, type, size, committed version)
// commits a file; data pages are chunks of page_size bytes. Mount scans the
// tags of every written page (tags-only reads) and rebuilds the index: the
// newest header of each object wins; a file's data is, per chunk, the newest
// page whose version is <= the header's committed version. A superblock page
// (format marker, version, geometry, checksum) lives in the log like any other
// live page. Garbage collection moves live pages out of the block with the
// least live data and erases it; wear levelling allocates the least-worn free
// block and periodically collects the coldest block; a block whose program or
// erase fails is retired (live pages moved, marked bad); a page read with
// many corrected bits is rewritten (scrubbed).
//
// Crash semantics (power cut at any NAND operation):
//  * Namespace operations (create, mkdir, unlink, rmdir, rename) are durable
//    and atomic when they return: after a cut during one, the tree is either
//    before or after it. rename over an existing file is atomic: the target
//    name always refers to the old or the new file, never to nothing.
//  * File data is copy-on-write: writes go to new pages and become visible
//    after a cut only when the file is committed, by fsync() or close(). A
//    file rewritten and closed is seen after a cut either wholly old or wholly
//    new, never a mix and never garbage. fsync() returning OK guarantees the
//    content, size and name at that moment survive any later cut.
//  * A file written but never committed (cut before close/fsync) shows its
//    last committed content (possibly empty): it may lose the unsynced bytes
//    but never contains bytes that were not written.
//  * A torn last write is explained by design and never fails a check.
//
// Threading: an instance is single-threaded. One shared across threads
// (FUSE + simulator) is owned by a SharedFileSystem (shared.hpp), the only
// way to reach it, which holds its lock around every use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fs/check.hpp>
#include <vmodem/fs/config.hpp>
#include <vmodem/fs/errors.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/nand/geometry_problem.hpp>

namespace vmodem::fs {

class Volume;  // private implementation (src/volume.hpp)

enum class FileType : std::uint8_t { file = 1, directory = 2 };

struct Stat {
  std::uint32_t id = 0;  // object id (1 = root)
  FileType type = FileType::file;
  std::uint64_t size = 0;   // bytes (as seen through open handles, uncommitted included)
  std::uint32_t mode = 0;   // permission bits as given at create (informational)
  std::int64_t mtime = 0;   // seconds, from Config::clock
  std::uint32_t pages = 0;  // data pages used by the committed content
};

struct DirEntry {
  std::string name;
  FileType type;
  std::uint64_t size;
};

struct StatFs {
  std::uint64_t total_bytes = 0;   // usable capacity (excluding reserve blocks)
  std::uint64_t free_bytes = 0;    // what files may still use
  std::uint32_t pages_in_use = 0;  // live pages of page_size (AT+QPRTPARA page_cnt)
  std::uint32_t page_size = 0;
  std::uint32_t blocks = 0;       // good blocks
  std::uint32_t bad_blocks = 0;   // retired or factory-bad blocks in the partition
  std::uint32_t free_blocks = 0;  // erased or erasable without moving data
};

// Open flags (combine with |).
enum OpenFlags : std::uint32_t {
  kRead = 1,
  kWrite = 2,
  kReadWrite = 3,
  kCreate = 4,     // create the file when missing
  kExclusive = 8,  // with kCreate: fail with exists when present
  kTruncate = 16,  // start from an empty file (committed at close/fsync)
  kAppend = 32,    // every write goes to the end
};

enum class Whence : std::uint8_t { set, current, end };

using Handle = std::uint32_t;

struct FormatOptions {
  std::uint64_t volume_id = 0;  // stored in the superblock (e.g. the manufacture seed)
};

struct MountOptions {
  bool read_only = false;  // never writes (no recovery writes, no scrubbing)
  CheckOptions checks;     // critical files (probes 7, 8); deep data check
};

// Counters of NAND work done on behalf of the file system since mount.
struct FsCounters {
  std::uint64_t pages_written = 0;       // every program (user data, metadata, GC copies)
  std::uint64_t data_pages_written = 0;  // user data pages only
  std::uint64_t gc_pages_copied = 0;
  std::uint64_t blocks_erased = 0;
  std::uint64_t blocks_retired = 0;
  std::uint64_t pages_scrubbed = 0;
  std::uint64_t pages_read = 0;
};

class FileSystem {
 public:
  ~FileSystem();
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  // Why a file system with `config` cannot live on a partition of geometry
  // `g` (block_count: the partition's blocks), or nullopt: pages of 512 to
  // 4096 bytes, a spare area that holds the page tags, at least
  // reserve_blocks + 3 blocks. format() refuses what this refuses.
  static std::optional<nand::GeometryProblem> geometry_problem(const nand::Geometry& g,
                                                               const Config& config);

  // Erases every good block of `device` and writes an empty file system
  // (superblock + root directory). Bad blocks are skipped. Errors: unsupported
  // (page_size < 512, spare < 40 bytes, fewer than reserve_blocks + 3 good
  // blocks), power_loss, io_error.
  static Status format(nand::Device& device, const Config& config,
                       const FormatOptions& options = {});

  // Scans `device` and rebuilds the index, running probes 1-6 and 9 (7-8 when
  // options.checks lists critical files). A failed check refuses the mount
  // with Errc::check_failed and Error::check naming the first failing probe.
  // A rw mount may write: it seals the block holding the last write, copies
  // the very last page forward and finishes an interrupted rename.
  // `device` must outlive the instance.
  static Result<std::unique_ptr<FileSystem>> mount(nand::Device& device, const Config& config,
                                                   const MountOptions& options = {});

  // Read-only scan and every check, without mounting: all failures found.
  static CheckReport fsck(nand::Device& device, const Config& config,
                          const CheckOptions& options = {});

  // --- namespace (paths are absolute or relative to the root, '/'-separated) ---
  Status mkdir(std::string_view path, std::uint32_t mode = 0755);
  Status rmdir(std::string_view path);   // not_empty unless empty; not root
  Status unlink(std::string_view path);  // files only; busy when open
  // Atomic. Over an existing file (or empty directory when moving a
  // directory) the target is replaced. Moving a directory into itself:
  // invalid_argument.
  Status rename(std::string_view from, std::string_view to);
  Result<Stat> stat(std::string_view path);
  Result<std::vector<DirEntry>> readdir(std::string_view path);  // sorted by name

  // --- files ---
  // Opens (and with kCreate creates, durably) a file. kTruncate starts a new
  // version that replaces the old content atomically at close/fsync.
  Result<Handle> open(std::string_view path, std::uint32_t flags, std::uint32_t mode = 0644);
  // Commits (like fsync) and releases the handle. On a commit error the
  // handle is still released and the file keeps its last committed content.
  Status close(Handle handle);
  // Releases the handle and drops the file's uncommitted changes (the last
  // committed content stays), e.g. for an upload that failed half-way.
  Status close_discard(Handle handle);
  Result<std::size_t> read(Handle handle, std::span<std::uint8_t> out);
  Result<std::size_t> write(Handle handle, std::span<const std::uint8_t> data);
  // Positional variants (do not move the handle's offset).
  Result<std::size_t> pread(Handle handle, std::span<std::uint8_t> out, std::uint64_t offset);
  Result<std::size_t> pwrite(Handle handle, std::span<const std::uint8_t> data,
                             std::uint64_t offset);
  Result<std::uint64_t> seek(Handle handle, std::int64_t offset, Whence whence);
  Status truncate(Handle handle, std::uint64_t size);
  Status truncate(std::string_view path, std::uint64_t size);  // committed at once
  // Commits the file's data and size: durable once this returns.
  Status fsync(Handle handle);
  Result<Stat> fstat(Handle handle);

  // Whole-file helpers: write_file replaces atomically (open+truncate+write+close).
  Status write_file(std::string_view path, std::span<const std::uint8_t> data);
  Result<std::vector<std::uint8_t>> read_file(std::string_view path);

  // --- volume ---
  Result<StatFs> statfs();
  // Runs probes 5-9 on the mounted index (and 3/6 on data with options.deep).
  CheckReport check(const CheckOptions& options = {});
  // Commits every dirty file (like fsync on each).
  Status sync();
  // Runs garbage collection until `blocks` erased blocks are free or no
  // block has anything to reclaim. Returns the free block count.
  Result<std::uint32_t> collect_garbage(std::uint32_t blocks);
  FsCounters counters() const;
  const Config& config() const;
  // False after a power loss or an unrecoverable device error.
  bool alive() const;
  bool read_only() const;

 private:
  explicit FileSystem(std::unique_ptr<Volume> volume);
  std::unique_ptr<Volume> volume_;
};

// Checks one path component: invalid_name for empty, ".", "..", '/' or NUL
// inside; name_too_long beyond `max_name` bytes.
Status validate_name(std::string_view name, std::uint32_t max_name);

// zlib/IEEE CRC-32 (the checksum of CriticalFile).
std::uint32_t crc32(std::span<const std::uint8_t> data);
// crc32() continued over `data`: crc32_update(crc32(a), b) is the CRC of a
// followed by b; crc32_update(0, x) == crc32(x). For files read in chunks.
std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::uint8_t> data);

}  // namespace vmodem::fs
