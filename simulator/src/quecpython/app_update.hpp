// QuecPython's application update (app FOTA, SPEC §6's last sentence): an
// application package (fota/app_package.hpp) staged in /usr and applied at
// the next boot, before the checksum guardian (guardian.hpp) runs.
//
// Staging (`vmodem ctl app-fota PKG`, AT+QFOTADL of an application package)
// checks the package whole against /usr and only then writes it, through a
// temporary file and a rename, to kStagedPackage: a cut leaves it staged or
// not. The apply at boot:
//
//   1. the journal (kJournal: the package id) is written through a
//      temporary file and a rename, before any file is touched;
//   2. each changed or added file is written through kFileTemp and renamed
//      over its target; each removed file is unlinked;
//   3. /usr/checksum.json gets the new files' CRC-32s (an entry per listed
//      file; a removed file's entry goes), replaced atomically;
//   4. the journal is removed, then the package.
//
// A boot that finds the journal rolls the update forward (every file is the
// package's source or its target, never torn: renames are atomic), so the
// guardian that runs next never sees new files against the old
// checksum.json and never "restores" the shipped files over the update. A
// boot that finds the package but no journal checks it again as staging did.
//
// Without the journal (AppUpdateOptions::journal = false, the profile's
// fota.app_journal: the unsafe reference the tests compare against) a cut
// between step 2 and 3 leaves new files that the next boot refuses to
// finish and the guardian then replaces with /bak's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fs/filesystem.hpp>

namespace vmodem::sim::quecpython {

// In /usr. The package and the journal are the update's state on flash.
inline constexpr std::string_view kStagedPackage = "/.app_fota.vmapp";
inline constexpr std::string_view kStagingTemp = "/.app_fota.vmapp.tmp";
inline constexpr std::string_view kJournal = "/.app_fota.journal";
inline constexpr std::string_view kJournalTemp = "/.app_fota.journal.tmp";
inline constexpr std::string_view kFileTemp = "/.app_fota.tmp";

struct AppUpdateOptions {
  std::string model;    // the module's (its profile name); the package must name it
  bool journal = true;  // false: the unsafe reference (see the file comment)
};

// A package as /usr holds it. `refused` when it must not be applied there:
// kBadPackage/kUnsupported (damaged, a reserved path such as
// /usr/checksum.json), kFirmwareMismatch (another model; a file that is
// neither the package's source nor its target, naming it). Otherwise
// `at_source`/`at_target` say whether every file is the old or the new one
// (both false: some old, some new, as only a cut apply leaves them).
struct PackageCheck {
  std::optional<fota::Error> refused;
  fota::AppPackage header;
  bool at_source = false;
  bool at_target = false;
};
fs::Result<PackageCheck> check_app_package(fs::FileSystem& usr,
                                           std::span<const std::uint8_t> package,
                                           std::string_view model);

// Checks `package` (check_app_package: it must find every file at its
// source; kNoSpace when /usr cannot hold it and the apply's largest new
// file) and stores it as kStagedPackage. A refusal writes nothing and is
// returned in `refused`; errors are the file system's (no_space, a cut).
fs::Result<PackageCheck> stage_app_update(fs::FileSystem& usr,
                                          std::span<const std::uint8_t> package,
                                          const AppUpdateOptions& options);

enum class AppUpdateState : std::uint8_t {
  none,     // nothing staged
  applied,  // the staged package is now /usr's
  resumed,  // a journal was found: the cut apply is finished
  refused,  // the staged package was not applied (and is removed)
};
std::string_view to_string(AppUpdateState state);

struct AppUpdateReport {
  AppUpdateState state = AppUpdateState::none;
  int end_code = 0;     // +QIND: "FOTA","END",<code>: 0, or fota::end_code of the refusal
  std::string message;  // why refused
  std::vector<std::string> files;                     // "/usr/..." written or removed by this boot
  std::uint32_t added = 0, changed = 0, removed = 0;  // the package's
};

// The boot-time apply (steps 1-4 above) of a package staged in `usr`;
// `bak` (may be null) gives checksum.json's entries when /usr has none.
// Errors are the file system's (power_loss: the next boot goes on).
fs::Result<AppUpdateReport> apply_staged_update(fs::FileSystem& usr, fs::FileSystem* bak,
                                                const AppUpdateOptions& options);

}  // namespace vmodem::sim::quecpython
