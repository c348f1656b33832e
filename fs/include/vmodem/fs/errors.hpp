// Error values returned across the fs/ boundary.
//
// Every file-system operation returns Status or Result<T> (tl::expected); no
// exception crosses this boundary. A NAND power loss surfaces as
// Errc::power_loss and leaves the instance dead: every later call fails the
// same way until the partition is mounted again, as on a module that lost
// power mid-operation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <vmodem/fs/check.hpp>

namespace vmodem::fs {

enum class Errc : std::uint8_t {
  not_found,         // no such file or directory (or a path component missing)
  exists,            // the name is taken
  not_dir,           // a path component (or rmdir target) is not a directory
  is_dir,            // a file operation on a directory
  not_empty,         // rmdir / rename over a non-empty directory
  invalid_name,      // empty component, '/', NUL, "." or ".." in a name
  name_too_long,     // a component longer than Config::max_name
  no_space,          // the partition is full (nothing already stored was lost)
  file_too_large,    // the write would pass Config::max_file_size
  too_many_open,     // Config::max_open_files handles are open
  bad_handle,        // unknown or closed handle
  busy,              // the object is open (unlink / rename over an open file)
  invalid_argument,  // malformed request (bad seek, rename into itself, ...)
  read_only,         // mounted read-only, or the handle was opened read-only
  io_error,          // the device failed in a way the FS could not work around
  corrupt,           // data on flash failed its checksum or ECC
  power_loss,        // the NAND lost power; the instance is dead until remount
  check_failed,      // mount/format refused: an integrity check failed (see Error::check)
  unsupported,       // geometry or feature this build cannot handle (e.g. no FUSE)
};

std::string_view to_string(Errc code);

struct Error {
  Errc code;
  std::string detail;                 // human-readable context, may be empty
  std::optional<CheckFailure> check;  // set when code == check_failed

  std::string message() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string detail = {}) {
  return tl::unexpected<Error>(Error{code, std::move(detail), std::nullopt});
}

}  // namespace vmodem::fs
