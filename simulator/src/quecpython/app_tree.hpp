// A QuecPython application as a host directory tree: what `vmodem image
// create --app DIR [--backup]` (and a profile's "factory" directory for the
// /usr and /bak file systems) puts into the module. The vendor's packaging
// tool does the same with the files a developer ticks.
//
// The tree is hostile input: it is read whole and checked before anything
// is written, and refused with a message naming the first offending path for
// a symbolic link, FIFO, socket or device (never followed or skipped
// silently), a name that is not UTF-8 or that the module's file system
// refuses, a tree deeper, a file larger, or a whole larger than the limits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fs/factory.hpp>

namespace vmodem::sim::quecpython {

struct AppTreeLimits {
  std::uint32_t max_name = 255;       // bytes per path component (the FS's max_name)
  std::uint32_t max_depth = 8;        // directory levels below the root (the FS's max_depth)
  std::uint64_t max_file_size = 0;    // bytes per file; 0: no limit
  std::uint64_t max_total_bytes = 0;  // bytes of all files together; 0: no limit
  std::uint32_t max_files = 100000;   // files and directories together
};

// The regular files under `dir`, paths rooted at "/" ('/'-separated), sorted
// by path; empty directories are kept as nothing (a file's directories are
// made when it is written). Errors are messages for a user.
tl::expected<std::vector<fs::FactoryFile>, std::string> load_app_tree(
    const std::filesystem::path& dir, const AppTreeLimits& limits);

// The backup file system's content for `app` (the files of /usr as
// shipped): each file at /usr/<path> (so /bak/usr/main.py backs up
// /usr/main.py and both are named "/usr/main.py" in the list), checksum.json
// listing every one of them with its CRC-32, and backup_restore.json with
// `enable`. Errors: a file of the application is itself /checksum.json (the
// boot copies the list there), or checksum.json would pass the 16 KiB
// QuecPython reads of it.
tl::expected<std::vector<fs::FactoryFile>, std::string> backup_content(
    const std::vector<fs::FactoryFile>& app, bool enable);

// True when `bytes` are UTF-8 (no overlong forms, no surrogates): the
// application package's own check, which names in /usr pass too.
using ::vmodem::fota::valid_utf8;

}  // namespace vmodem::sim::quecpython
