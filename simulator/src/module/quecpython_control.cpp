// Module as a ControlTarget, QuecPython's part: `ctl crc32` and `ctl
// checksum-update`, what an application does with file_crc32.calc and the
// checker's update() (quecpython/guardian.hpp does the work).
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "quecpython/guardian.hpp"

namespace vmodem::sim {

namespace {

tl::unexpected<ControlError> error(std::string error_class, std::string desc) {
  return tl::unexpected(ControlError{std::move(error_class), std::move(desc)});
}

// A file-system error as the control socket reports it: what the caller got
// wrong (a name, an unlisted file) or what failed underneath.
tl::unexpected<ControlError> fs_error(const std::string& path, const fs::Error& failed) {
  switch (failed.code) {
    case fs::Errc::not_found:
    case fs::Errc::is_dir:
    case fs::Errc::not_dir:
    case fs::Errc::invalid_name:
    case fs::Errc::invalid_argument:
      return error("InvalidParameter", path + ": " + failed.message());
    default:
      return error("GenericError", path + ": " + failed.message());
  }
}

}  // namespace

Controlled<FileChecksum> Module::file_crc32(const std::string& path) {
  if (profile_.family != Family::quecpython)
    return error("InvalidParameter", "crc32 is QuecPython's (profile family quecpython)");
  const auto fs_path = quecpython::fs_path_of(path);
  if (!fs_path) return error("InvalidParameter", "'" + path + "' is not a file under /usr");
  fs::SharedFileSystem* usr = file_system(FsRole::ap);
  if (!usr || state_ == PowerState::off || state_ == PowerState::booting)
    return error("DeviceNotActive", "the user file system is not mounted (module off or booting)");
  auto crc = quecpython::file_crc32(*usr->lock(), *fs_path);
  if (!crc) return fs_error(path, crc.error());
  return FileChecksum{path, *crc, false};
}

Controlled<FileChecksum> Module::checksum_update(const std::string& path) {
  if (profile_.family != Family::quecpython)
    return error("InvalidParameter", "checksum-update is QuecPython's (profile family quecpython)");
  fs::SharedFileSystem* usr = file_system(FsRole::ap);
  if (!usr || state_ == PowerState::off || state_ == PowerState::booting)
    return error("DeviceNotActive", "the user file system is not mounted (module off or booting)");
  auto updated = quecpython::update_checksum(*usr->lock(), path);
  if (!updated) return fs_error(path, updated.error());
  if (updated->changed)
    log_->info("checksum-update: {} is {:08x} in /usr/checksum.json", path, updated->crc32);
  return FileChecksum{path, updated->crc32, updated->changed};
}

}  // namespace vmodem::sim
