// The file-system limits a profile implies, shared by the running module and
// the offline tools so both mount a partition the same way.
#pragma once

#include <vmodem/fs/config.hpp>
#include <vmodem/fs/factory.hpp>
#include <vmodem/simulator/profile.hpp>

#include "quecpython/app_tree.hpp"

namespace vmodem::sim {

fs::Config fs_config(const Profile& profile);

// The modification time of the files a module is manufactured with
// (2024-01-01 00:00:00 UTC): the production line's clock, the same for
// every image, so a seed makes the same image whenever it is made.
inline constexpr std::int64_t kFactoryFileTime = 1704067200;

// The profile's file-system limits, and roughly what the partition holds,
// for reading an application tree (quecpython/app_tree.hpp) before any of
// it is written: `image create --app`, `delta make --files`.
quecpython::AppTreeLimits app_tree_limits(const Profile& profile, const FileSystemSpec& fs);

// The factory files of a file system: its directory tree when the profile
// names one, else content generated from `seed` (the modem and AP roles
// unless generated_factory is false; a data file system starts empty). An
// error message when the directory cannot be read. QuecPython trees are read
// as hostile input (quecpython/app_tree.hpp) within the profile's limits, and
// the backup file system's get checksum.json and backup_restore.json.
tl::expected<std::vector<fs::FactoryFile>, std::string> factory_files(const Profile& profile,
                                                                      const FileSystemSpec& fs,
                                                                      std::uint64_t seed);

// What the module checks at boot beyond the file system's own structure
// (probes 7 and 8): the files it cannot come up without, with the CRC-32 the
// production line gave them — the modem FS's RF calibration (/nv/rfcal/) and
// the AP FS's USB configuration (/usb/), taken from the factory content of
// `fs` (generated from `seed`, or the profile's factory tree). Only these
// are read whole at boot, so the mount stays fast; other files are checked
// only for their structure. Empty when the factory content cannot be read.
// Lists from generated content are computed once per (role, seed) and
// process; a profile's factory tree is read at every call.
fs::CheckOptions boot_checks(const Profile& profile, const FileSystemSpec& fs, std::uint64_t seed);

}  // namespace vmodem::sim
