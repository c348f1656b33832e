// Where a simulated chip keeps its cells: RAM or a memory-mapped image file.
//
// Cells are stored bit-inverted, so an erased device is all zero bytes: a new
// image file is sparse and costs no disk until blocks are programmed.
//
// Both backends share one byte layout (see src/image_layout.hpp), so a RAM
// device can be exported as an image file and an image can be loaded into RAM.
// The image file holds page data + spare, per-block metadata (erase counts,
// bad/failed flags, program high-water mark), per-page metadata (partial
// program counts, unstable flag) and the ECC deviation store, behind a
// versioned header. Because the file is mapped MAP_SHARED, every completed
// operation is in the kernel's page cache the moment it returns: a kill -9 of
// the process loses nothing that completed (an operation caught half-way is a
// torn operation, as on silicon).
//
// Snapshots are copy-on-write: snapshot_begin() is O(1), each block's state
// is saved the first time it changes, and snapshot_rollback() restores only
// the blocks changed since the last rollback, and in them only the pages
// whose cells or masks changed, so a power-cut campaign can replay thousands
// of runs per second.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <vmodem/nand/geometry.hpp>
#include <vmodem/nand/status.hpp>

namespace vmodem::nand {

// Persistent per-block state.
struct BlockMeta {
  std::uint32_t erase_count;
  std::uint32_t reads_since_erase;  // drives the read-disturb model
  std::uint64_t reads;
  std::uint64_t programs;
  std::uint8_t flags;      // BlockFlag bits
  std::uint8_t next_page;  // pages below this have been (at least partly) programmed
  std::uint8_t reserved[6];
};
static_assert(sizeof(BlockMeta) == 32);

enum BlockFlag : std::uint8_t {
  kFactoryBad = 1,  // marked bad at manufacture
  kFailed = 2,      // reported program/erase FAIL once; stays failed
  kMarkedBad = 4,   // software wrote the marker after manufacture (grown bad)
};

// Persistent per-page state.
struct PageMeta {
  std::uint8_t program_count;    // programs since the last erase (NOP check)
  std::uint8_t flags;            // PageFlag bits
  std::uint16_t unstable_reads;  // reads of an unstable page since it became so
  std::uint32_t deviation_slot;  // 1-based index into the deviation store, 0 = none
};
static_assert(sizeof(PageMeta) == 8);

enum PageFlag : std::uint8_t {
  kUnstable = 1,  // marginal cells: reads differ from one read to the next
};

// Lifetime counters of the device, persisted in the image header.
struct DeviceCounters {
  std::uint64_t reads, programs, partial_programs, erases;
  std::uint64_t corrected_reads, corrected_bits, uncorrectable_reads;
  std::uint64_t program_fails, erase_fails;
  std::uint64_t order_violations, nop_violations, set_bit_violations;
  std::uint64_t power_cuts, torn_operations;
  std::uint64_t virtual_time_ns;
  std::uint64_t operations;  // reads + programs + erases, including refused ones
};

// Which file an image is: its device and inode (a hard link is the same
// file, a path string is not an identity).
struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

struct StorageOptions {
  // Pages whose cells differ from what ECC would decode (torn, disturbed,
  // injected flips) are tracked in a store of this many page-sized masks.
  std::uint32_t deviation_slots = 4096;
  std::uint64_t manufacture_seed = 0;  // recorded in the header for `image info`
  std::string label;                   // e.g. the profile name; at most 63 bytes
  // Bytes the creator keeps with the image, opaque to the NAND model (the
  // simulator: the profile the image was made for). Written at creation,
  // never changed after; not part of the chip.
  std::string attachment;
};

// The most an attachment may hold.
inline constexpr std::size_t kMaxAttachmentBytes = 1 << 20;

class Storage {
 public:
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // A fresh, fully erased device in RAM (every cell 0xFF, no bad blocks).
  static Result<std::unique_ptr<Storage>> create_in_memory(const Geometry& geometry,
                                                           const StorageOptions& options = {});
  // A fresh, fully erased image file. Refuses (io_error) to overwrite an
  // existing file. Every block of it is reserved on disk before it is used
  // (no_space, naming the size and the free space, when the disk cannot
  // hold it): a store to the mapping can never fail for lack of space.
  static Result<std::unique_ptr<Storage>> create_image(const std::filesystem::path& path,
                                                       const Geometry& geometry,
                                                       const StorageOptions& options = {});
  // Opens an existing image. With `expected`, an image of another geometry is
  // refused (bad_image, message naming both) and the file is left untouched;
  // so is a file of another kind or format version, and anything but a
  // regular file (a FIFO or a device is never opened for writing, nor
  // waited on). Opened for writing, the image's blocks are reserved first,
  // as by create_image (no_space).
  static Result<std::unique_ptr<Storage>> open_image(const std::filesystem::path& path,
                                                     std::optional<Geometry> expected = {},
                                                     bool read_only = false);
  // True when another open file (another process, e.g. a running vmodem)
  // holds the image for writing: open_image for writing is then refused.
  static bool in_use_by_writer(const std::filesystem::path& path);
  // Loads a whole image file into a RAM device (for fast campaigns on a
  // copy, or to check a file before it replaces a device's content). Reads
  // with pread, never blocks on a FIFO or device (refused, bad_image), and
  // checks everything open_image checks; with `expected`, the geometry too.
  static Result<std::unique_ptr<Storage>> load_into_memory(const std::filesystem::path& path,
                                                           std::optional<Geometry> expected = {});

  const Geometry& geometry() const { return geometry_; }
  std::uint32_t deviation_slot_count() const;
  std::uint64_t manufacture_seed() const;
  std::string label() const;
  // StorageOptions::attachment as created (empty for images made before
  // attachments existed).
  std::string attachment() const;
  bool read_only() const { return read_only_; }
  bool file_backed() const { return !path_.empty(); }
  const std::filesystem::path& path() const { return path_; }
  // The image file's identity (nullopt in RAM).
  std::optional<FileId> file_id() const;
  // Pages of the image file found gone when stored to or read (the file was
  // truncated under us, or its disk failed). Each such access completed on
  // a page of zeros in memory instead of raising SIGBUS; what is stored
  // there never reaches the file. 0 in RAM.
  std::uint64_t lost_pages() const;

  // Flushes a file-backed image to disk (msync); no-op in RAM.
  Status sync();
  // A RAM device holding this device's exact content, now. Erased regions
  // cost no memory. Takes as long as a memcpy of the used part: callers
  // that share the device hold its lock around this and write the copy
  // out (export_image) without it.
  Result<std::unique_ptr<Storage>> copy_in_memory() const;
  // Writes the whole device as an image file at `path`, replacing a regular
  // file there (see image_io.hpp for what is refused: a NUL in the path,
  // anything but a regular file or a free name, this device's own image
  // file and `also_refuse`, by inode). Erased regions stay holes.
  // invalid_argument for a refused path, no_space, io_error.
  Status export_image(const std::filesystem::path& path,
                      std::optional<FileId> also_refuse = {}) const;
  // Replaces this device's content with another device's of the same
  // geometry and deviation store size (bad_image otherwise). Ends an active
  // snapshot. The attachment stays this device's.
  Status assign(const Storage& other);
  // load_into_memory(path, geometry()) then assign().
  Status import_image(const std::filesystem::path& path);

  // --- copy-on-write snapshot (one active at a time) ---
  void snapshot_begin();     // state now becomes the rollback point
  void snapshot_rollback();  // back to the rollback point; snapshot stays active
  void snapshot_end();       // forget the rollback point
  bool snapshot_active() const;
  std::size_t snapshot_saved_blocks() const;  // blocks copied since snapshot_begin
  std::size_t snapshot_dirty_blocks() const;  // blocks to restore at the next rollback

  // --- checkpoint: a nested, page-granular rollback point ---
  // For branching off a run and coming back (crash-state exploration): the
  // pages and block metadata changed after checkpoint_begin() are saved as
  // they change, so checkpoint_rollback() costs what changed since, and
  // ends the checkpoint. Works with or without an active snapshot, which
  // sees the changes and the roll-back like any other change.
  // Checkpoints nest, kMaxCheckpoints deep (a branch off a run, then a
  // branch off that branch's power-up: a second cut during the recovery
  // boot): a rollback goes back to the innermost begin and ends only that
  // one. checkpoint_begin() is false, and begins nothing, when that many
  // are active.
  static constexpr std::uint32_t kMaxCheckpoints = 2;
  bool checkpoint_begin();
  void checkpoint_rollback();
  bool checkpoint_active() const;          // at least one
  std::uint32_t checkpoint_depth() const;  // how many are active

  // --- cell access for the chip model and offline tools ---
  // `column` addresses the raw page (main area, then spare). Callers that
  // change a block must call will_modify_meta()/will_modify_data() first, so
  // snapshots see the change. Ranges are the caller's responsibility.
  void read_cells(PageAddr addr, std::uint32_t column, std::span<std::uint8_t> out) const;
  // Cells become cells & data (programming only clears bits).
  void program_cells(PageAddr addr, std::uint32_t column, std::span<const std::uint8_t> data);
  // Cells become exactly `data` (tearing, injection, restore).
  void set_cells(PageAddr addr, std::uint32_t column, std::span<const std::uint8_t> data);
  void erase_cells(std::uint32_t block);
  // One page's cells back to erased (restoring a rollback point).
  void erase_page_cells(PageAddr addr);
  // True when every cell of the page (main and spare) is erased.
  bool cells_erased(PageAddr addr) const;
  BlockMeta& block_meta(std::uint32_t block);
  const BlockMeta& block_meta(std::uint32_t block) const;
  PageMeta& page_meta(PageAddr addr);
  const PageMeta& page_meta(PageAddr addr) const;
  DeviceCounters& counters();
  const DeviceCounters& counters() const;

  // Deviation store: a page-sized XOR mask of actual cells vs. what ECC
  // decodes to. nullptr when the page has none.
  std::uint8_t* deviation(PageAddr addr);
  const std::uint8_t* deviation(PageAddr addr) const;
  // Returns the page's mask, allocating a zeroed one if needed.
  Result<std::uint8_t*> deviation_acquire(PageAddr addr);
  void deviation_release(PageAddr addr);
  std::uint32_t deviation_slots_in_use() const;

  void will_modify_meta(std::uint32_t block);  // counters, flags, page meta
  void will_modify_data(std::uint32_t block);  // cells and deviation masks too
  // A read is about to count itself in the block's read counters (reads,
  // reads_since_erase): saved for the rollback points like any metadata,
  // but not a change of content_id().
  void will_count_read(std::uint32_t block);

  // Names what the chip holds: two equal ids (in one process) mean the same
  // cells, damage records and metadata, the read counters aside. Every other
  // change takes a new id, never used before; a rollback (snapshot or
  // checkpoint) gives back the id of the state it restores. A campaign
  // verifies two cuts that left the same id once (branching, where the
  // uncut run's state is shared; replayed runs make new ids).
  std::uint64_t content_id() const;
  // Names the result of a change that is a function of the content it
  // started from alone: `change` fingerprints the change and everything
  // it drew (the data, the address, the chip generator's state). Call it
  // after the change, with the id read before it. The same change applied
  // to the same content then names its result the same way in every
  // branch: an "after" cut and the uncut run's next operation share their
  // flash. Never equal to an id content_id() hands out fresh (the top bit
  // is set; a 64-bit hash, so two different results collide with odds
  // of about n^2 / 2^64 for n names).
  void name_deterministic_change(std::uint64_t before, std::uint64_t change);

 private:
  struct Impl;
  explicit Storage(std::unique_ptr<Impl> impl, Geometry geometry, std::filesystem::path path,
                   bool read_only);
  std::unique_ptr<Impl> impl_;
  Geometry geometry_;
  std::filesystem::path path_;
  bool read_only_;
};

}  // namespace vmodem::nand
