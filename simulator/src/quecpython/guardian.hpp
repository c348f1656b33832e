// QuecPython's boot-time per-file restore (seed 002 steps 2-3, SPEC §6), on
// the two mounted file systems: /usr (the user's, read-write) and /bak (the
// backup, read-only). When /bak/backup_restore.json enables it:
//
//   1. /usr/checksum.json missing (or not a checksum list): copied from /bak.
//   2. Every file it lists is read and its CRC-32 compared with its entry; a
//      file that is missing, unreadable or different is copied back from
//      /bak (entry "/usr/main.py": /bak/usr/main.py -> /usr/main.py) and its
//      entry set to the restored file's CRC-32.
//   3. /usr/checksum.json is rewritten when an entry changed.
//
// Unlisted files are never read or written; a listed file that matches is
// only read. Power cuts: every write goes to a temporary file that is then
// renamed over its target (the file system's rename is atomic), so a cut at
// any NAND operation leaves each file old or new and /usr/checksum.json old
// or new; the next boot removes the temporary files and finishes the work
// (a restored file whose entry was not rewritten yet matches /bak's CRC and
// is restored again, identically). Idempotent: a second run finds nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fs/filesystem.hpp>

#include "quecpython/checksum_file.hpp"

namespace vmodem::sim::quecpython {

// Temporary files in /usr (removed at every boot when a cut left them).
inline constexpr std::string_view kRestoreTemp = "/.restore.tmp";
inline constexpr std::string_view kChecksumTemp = "/.checksum.json.tmp";

// Why a file came back (the FILE_RESTORED event's "reason").
inline constexpr std::string_view kReasonMissing = "missing";
inline constexpr std::string_view kReasonChecksum = "checksum";
inline constexpr std::string_view kReasonListMissing = "checksum.json missing";
inline constexpr std::string_view kReasonListInvalid = "checksum.json invalid";

struct RestoredFile {
  std::string path;    // as the application names it: "/usr/main.py"
  std::string reason;  // one of the kReason* above
};

struct GuardianReport {
  bool enabled = false;
  std::string disabled_reason{};         // why not, when !enabled
  std::vector<RestoredFile> restored{};  // in the order done
  std::vector<std::string> problems{};   // what could not be done (logged, no event)
};

// Runs steps 1-3. Errors are the file systems' (power_loss: stop, the next
// boot goes on); everything the files themselves get wrong is in the report.
fs::Result<GuardianReport> restore_from_backup(fs::FileSystem& usr, fs::FileSystem& bak);

// The CRC-32 of a file, read in chunks (file_crc32.calc on the module).
fs::Result<std::uint32_t> file_crc32(fs::FileSystem& fs, std::string_view path);

// The application's "I changed this file on purpose": its entry in
// /usr/checksum.json set to the file's CRC-32 now (temporary file + rename).
// `name` is "/usr/<path>", found without regard to case. Errors:
// invalid_argument (not listed: only backed-up files have entries),
// not_found (the file, or /usr/checksum.json), corrupt (/usr/checksum.json
// is no checksum list), and the file system's.
struct ChecksumUpdate {
  std::uint32_t crc32 = 0;
  bool changed = false;  // false: the entry had that CRC already (nothing written)
};
fs::Result<ChecksumUpdate> update_checksum(fs::FileSystem& usr, std::string_view name);

// `bytes` written to `path` through `temp` and a rename: the target holds
// the old or the new content whatever a power cut interrupts.
fs::Status replace_file(fs::FileSystem& fs, std::string_view path, std::string_view temp,
                        std::span<const std::uint8_t> bytes);

}  // namespace vmodem::sim::quecpython
