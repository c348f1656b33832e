// File-system backup and restore (the BG95/BG77/BG600L mechanism, SPEC §4).
//
// One BackupEngine serves one file system: its partition, its backup data
// partition (~1 MB) and its backup info partition (a few blocks).
//
// Backup image. A backup is a file-level archive of the committed tree
// (directories and files with their modes and bytes), zlib-compressed, so a
// 4 MB partition whose live data compresses into the data partition can be
// backed up whatever its dead pages and garbage. The archive is written page
// by page into the data partition; every page carries a spare-area tag
// (magic, data generation, sequence number, length, CRC-32 of the page,
// tag CRC), so a restore finds its blocks by scanning one spare per block
// (immune to bad-block remapping) and verifies every byte. The info record
// holds the whole image's length and CRC-32 too. Restore = verify the image,
// format the partition, recreate the tree, check it (mount + fsck): files
// created after the backup disappear, deleted ones return, contents are
// byte-exact. Not kept: mtimes (the file system stamps them at restore) and
// the physical page layout (page_cnt after a restore is that of a fresh
// write of the same tree).
//
// Info records. Each update appends one fixed-size record (one page) to two
// lanes (the info partition's good blocks split in two halves), each lane a
// log over its blocks, erased round-robin when full. Every record carries all
// counters, a generation number and a CRC-32; reading takes the newest valid
// generation of either lane. A torn write, or a block of one lane going bad,
// loses at most the newest record.
//
// Power loss during backup (BackupOptions::mode):
//  * real: as the module: the valid flag is cleared (a record is written)
//    before any data block is erased; backup_valid stays 0 until the new
//    backup is complete and verified. After a cut the user backs up again.
//  * safe: the previous backup stays valid until the new one is complete:
//    the new image is written only into blocks the valid image does not use,
//    and the record naming it is written after it is read back and verified.
//    The price is space: the new image must fit beside the old one. When it
//    does not (old + new blocks > good blocks), safe mode refuses the backup
//    (no_space) rather than break its promise; the old backup stays.
//
// Power loss during restore: a record with "restore in progress" (and the
// probe point) is written before the partition is touched; at_boot() sees it
// and asks for the restore again. Counters move only when a restore completes.
//
// Errors: fs::Error. power_loss means the engine is dead (every later call
// fails); open a new one after power-up. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <vmodem/fs/config.hpp>
#include <vmodem/fs/errors.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/nand/geometry_problem.hpp>

namespace vmodem::fs {

enum class PowerLossMode : std::uint8_t { real, safe };

inline constexpr int kProbePoints = 10;    // p1..p10 of AT+QPRTPARA
inline constexpr int kForcedRestore = 0;   // restore(probe) for =3 / =13
inline constexpr int kBootLoopProbe = 10;  // probe point of the boot-loop counter

struct BackupOptions {
  PowerLossMode mode = PowerLossMode::real;
  // Good blocks of the data partition kept back for blocks that fail while a
  // backup is written (the data partition's "spare" blocks): a backup needing
  // more than good - reserve blocks is refused.
  std::uint32_t reserve_blocks = 2;
  // Probe 10: this many consecutive boots that started and never completed.
  std::uint32_t boot_loop_threshold = 3;
  int compression_level = 6;  // zlib 0-9
  Config fs_config;           // to format and mount the partition on restore
  FormatOptions format;       // volume id of the restored file system
  CheckOptions checks;        // critical files checked after a restore
};

// The newest info record, as AT+QPRTPARA=4/14 report it.
struct BackupInfo {
  bool valid = false;  // backup_valid
  std::uint32_t backup_count = 0;
  std::uint32_t restore_count = 0;                         // forced and automatic
  std::array<std::uint32_t, kProbePoints> probe_counts{};  // p1..p10
  std::uint32_t page_count = 0;       // page_cnt of the file system at backup time
  std::uint32_t data_bad_blocks = 0;  // bad blocks in the backup data partition
  std::uint32_t info_bad_blocks = 0;  // bad blocks in the backup info partition
  bool restore_pending = false;       // forced restore scheduled for the next boot
  bool restore_in_progress = false;   // a restore started and did not finish
  int restore_probe = 0;              // probe of that restore (0 = forced)
  std::uint32_t boot_attempts = 0;    // consecutive boots started, not completed
  std::uint64_t generation = 0;       // of the record (0 = no record yet)
  std::uint32_t image_bytes = 0;      // compressed image size
  std::uint32_t image_blocks = 0;     // data blocks it occupies
  std::uint32_t files = 0;            // files in the image
};

// The four bad-block counts of AT+QPRTPARA=14 and their total (bad_blk_cnt).
struct BadBlockReport {
  std::uint32_t mfs_data = 0, mfs_info = 0, afs_data = 0, afs_info = 0;
  std::uint32_t total() const { return mfs_data + mfs_info + afs_data + afs_info; }
};
BadBlockReport bad_block_report(const BackupInfo& modem, const BackupInfo& ap);

enum class BootAction : std::uint8_t {
  none,       // mount the file system and go on
  restore,    // call restore(probe), then mount
  no_backup,  // a restore is needed but there is no valid backup: the module
              // formats and refills with factory files, and says so
};

struct BootDecision {
  BootAction action = BootAction::none;
  int probe = 0;         // 0 = forced, 1-10 = probe point
  bool resumed = false;  // an interrupted restore is restarted
  std::string reason;
};

class BackupEngine {
 public:
  ~BackupEngine();
  BackupEngine(const BackupEngine&) = delete;
  BackupEngine& operator=(const BackupEngine&) = delete;

  // Why a backup data partition of geometry `g` (block_count: its blocks)
  // cannot serve, or nullopt: each page's spare area carries a tag after the
  // bad-block marker bytes, and a backup needs a block beyond
  // options.reserve_blocks.
  static std::optional<nand::GeometryProblem> data_geometry_problem(const nand::Geometry& g,
                                                                    const BackupOptions& options);
  // The same for the info partition: a record must fit in a page.
  static std::optional<nand::GeometryProblem> info_geometry_problem(const nand::Geometry& g);

  // Reads the info partition (each good block's pages up to its first blank
  // one, where that block's log ends) and finds the newest record. The devices must outlive the
  // engine. A blank info partition is fine (all counters 0). Errors: power_loss, io_error (no good
  // block in the info or data partition), unsupported (pages or spare areas
  // the geometry_problem() functions refuse).
  static Result<std::unique_ptr<BackupEngine>> open(nand::Device& fs_device,
                                                    nand::Device& data_device,
                                                    nand::Device& info_device,
                                                    BackupOptions options = {});

  // Backs up the committed state of `fs` (mounted on fs_device; the caller
  // holds its mutex and has synced what it wants kept). Errors: no_space
  // (image too large, or safe mode cannot double-buffer) with the old backup
  // untouched; power_loss; io_error (too many blocks failed while writing).
  Status backup(FileSystem& fs);

  // =3 / =13: records "restore pending"; at_boot() then asks for a restore
  // with probe 0. Errors: not_found when there is no valid backup.
  Status schedule_restore();

  // Restores the partition (which must not be mounted) from the backup and
  // counts it: restore_count, and probe_counts[probe-1] for probes 1-10.
  // Clears restore_pending, restore_in_progress and (probe 10) the boot
  // counter. Errors: not_found (no valid backup), corrupt (the image fails
  // its checks: the partition is left untouched), check_failed (the restored
  // file system fails mount/fsck), power_loss, io_error.
  Status restore(int probe);

  BackupInfo info() const;

  // The boot decision, given how mounting the partition went (nullopt =
  // mounted fine). Order: an interrupted restore, a forced restore, the
  // mount's failing probe (1-9; a non-check mount error counts as probe 1),
  // the boot-loop counter (probe 10). Call after note_boot_started().
  BootDecision at_boot(const std::optional<Error>& mount_error) const;

  // Boot-loop counter, persisted: started at power-on, completed at RDY /
  // APP RDY. Each call that changes it writes a record.
  Status note_boot_started();
  Status note_boot_completed();

  // Rescans both backup partitions' bad-block markers, updates the counts
  // in info() and writes a record when they changed.
  Status refresh_bad_blocks();

  // Statistics for tests and benchmarks.
  std::uint64_t records_written() const;

 private:
  struct Impl;
  explicit BackupEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmodem::fs
