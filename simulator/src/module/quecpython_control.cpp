// Module as a ControlTarget, QuecPython's part: `ctl crc32` and `ctl
// checksum-update`, what an application does with file_crc32.calc and the
// checker's update() (quecpython/guardian.hpp does the work); `ctl
// app-fota` and AT+QFOTADL's application packages, staged in /usr for the
// next boot (quecpython/app_update.hpp).
#include <spdlog/spdlog.h>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fota/bundle.hpp>
#include <vmodem/simulator/module.hpp>

#include "quecpython/app_update.hpp"
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

tl::expected<AppFotaStaged, Module::AppRefusal> Module::stage_app_update(
    std::span<const std::uint8_t> package, const std::string& from) {
  const auto refuse = [](int code, std::string error_class, std::string desc) {
    return tl::unexpected(AppRefusal{code, ControlError{std::move(error_class), std::move(desc)}});
  };
  if (profile_.family != Family::quecpython)
    return refuse(510, "InvalidParameter", "app-fota is QuecPython's (profile family quecpython)");
  fs::SharedFileSystem* usr = file_system(FsRole::ap);
  if (!usr || state_ == PowerState::off || state_ == PowerState::booting) {
    return refuse(502, "DeviceNotActive",
                  "the user file system is not mounted (module off or booting)");
  }
  const quecpython::AppUpdateOptions options{.model = profile_.name,
                                             .journal = profile_.fota.app_journal};
  auto staged = quecpython::stage_app_update(*usr->lock(), package, options);
  if (!staged) {
    log_->warn("application update from {}: staging failed: {}", from, staged.error().message());
    return refuse(502, "GenericError", "staging in /usr: " + staged.error().message());
  }
  if (staged->refused) {
    log_->warn("application update from {} refused: {}", from, staged->refused->message);
    return refuse(fota::end_code(staged->refused->code), "InvalidParameter",
                  from + ": " + staged->refused->message + " (END " +
                      std::to_string(fota::end_code(staged->refused->code)) + ")");
  }
  AppFotaStaged out{.path = from, .bytes = package.size(), .added = 0, .changed = 0, .removed = 0};
  for (const auto& file : staged->header.files)
    ++(file.added() ? out.added : file.removed() ? out.removed : out.changed);
  log_->info(
      "application update from {}: {} bytes staged in /usr ({} added, {} changed, {} "
      "removed); applied at the next boot",
      from, package.size(), out.added, out.changed, out.removed);
  emit("APP_FOTA", {{"state", "staged"},
                    {"bytes", package.size()},
                    {"added", out.added},
                    {"changed", out.changed},
                    {"removed", out.removed}});
  return out;
}

Controlled<AppFotaStaged> Module::app_fota(const std::string& path) {
  // The package is read whole: it cannot be larger than /usr anyway.
  auto package = fota::read_file(path, fota::kMaxImageBytes);
  if (!package) return error("InvalidParameter", path + ": " + package.error().message);
  if (!fota::is_app_package(*package)) {
    return error("InvalidParameter",
                 path + " is not an application package (vmodem delta make --files)");
  }
  auto staged = stage_app_update(*package, path);
  if (!staged) return tl::unexpected(staged.error().error);
  return std::move(*staged);
}

void Module::note_app_update(const nlohmann::json& data) {
  const std::string state = data.value("state", std::string());
  last_app_update_ = state;
  if (state == "applied" || state == "resumed") ++app_updates_total_;
  app_update_urc_ = data.value("code", 0);
}

}  // namespace vmodem::sim
