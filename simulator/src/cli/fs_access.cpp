#include "cli/fs_access.hpp"

#include <chrono>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "module/fs_config.hpp"

namespace vmodem::cli {

namespace {

// A file system by its name ("modem", "ap": the same on every profile, so
// scripts work whatever the partitions are called), its alias or its
// partition.
tl::expected<const sim::FileSystemSpec*, int> resolve(const sim::Profile& profile,
                                                      const std::string& name) {
  if (const sim::FileSystemSpec* fs = profile.file_system(name)) return fs;
  if (const sim::PartitionEntry* entry = profile.find(name)) {
    return tl::unexpected(report_error(kExitUsage, "partition " + entry->spec.name + " (" +
                                                       std::string(to_string(entry->role)) +
                                                       ") does not hold a file system"));
  }
  std::string names;
  for (const auto& fs : profile.file_systems) {
    names += (names.empty() ? "" : ", ") + fs.name;
    if (!fs.alias.empty()) names += ", " + fs.alias;
    names += ", " + fs.partition;
  }
  return tl::unexpected(report_error(
      kExitNotFound,
      "profile " + profile.name + " has no file system '" + name + "' (try " + names + ")"));
}

}  // namespace

int report_fs_error(const std::string& what, const fs::Error& error) {
  int code = kExitFailure;
  switch (error.code) {
    case fs::Errc::not_found:
      code = kExitNotFound;
      break;
    case fs::Errc::corrupt:
    case fs::Errc::check_failed:
      code = kExitCorrupt;
      break;
    case fs::Errc::io_error:
    case fs::Errc::power_loss:
      code = kExitIo;
      break;
    case fs::Errc::unsupported:
      code = kExitUnavailable;
      break;
    default:
      break;
  }
  // A failed integrity check names its probe; that is the useful part.
  return report_error(
      code,
      what + ": " + (error.check ? "failed check: " + error.check->describe() : error.message()));
}

namespace {

// A file system in a UBI volume: UBI attached on the partition and the
// volume found. Offline, nothing is formatted: a partition the module would
// format at its next boot is reported as such.
int attach_ubi_or_report(OpenedFs& opened) {
  const std::string& name = opened.spec->ubi_volume;
  auto ubi = nand::ubi::UbiDevice::attach(*opened.partition);
  if (!ubi) {
    return report_error(kExitCorrupt, opened.entry->spec.name + ": " + ubi.error().message() +
                                          " (the module formats it at its next boot)");
  }
  const nand::ubi::Volume* volume = (*ubi)->find(std::string_view(name));
  if (!volume) {
    return report_error(kExitCorrupt, opened.entry->spec.name + " has no UBI volume \"" + name +
                                          "\" (the module formats it at its next boot)");
  }
  opened.volume = std::make_unique<nand::ubi::VolumeDevice>(**ubi, volume->id);
  opened.ubi = std::move(*ubi);
  return kExitOk;
}

}  // namespace

tl::expected<OpenedFs, int> open_partition_or_report(const FsTarget& target, bool read_only) {
  OpenedFs opened;
  auto flash = open_image_or_report(target.image, target.profile, read_only);
  if (!flash) return tl::unexpected(flash.error());
  opened.flash = std::move(*flash);
  auto spec = resolve(opened.flash->profile(), target.partition);
  if (!spec) return tl::unexpected(spec.error());
  opened.spec = *spec;
  // Nothing has been written yet: a tool that would write refuses here.
  if (!read_only && (*spec)->read_only) {
    return tl::unexpected(report_error(
        kExitFailure, "the " + (*spec)->name +
                          " file system is read-only: only manufacture (vmodem image create "
                          "--app DIR --backup) and the module's firmware write it"));
  }
  opened.entry = opened.flash->profile().find((*spec)->partition);
  auto partition = opened.flash->partition(opened.entry->spec.name);
  if (!partition) return tl::unexpected(report_error(kExitCorrupt, partition.error().message()));
  opened.partition = std::move(*partition);
  if (!(*spec)->ubi_volume.empty()) {
    if (const int code = attach_ubi_or_report(opened); code != kExitOk) return tl::unexpected(code);
  }
  return opened;
}

tl::expected<OpenedFs, int> mount_or_report(const FsTarget& target, bool read_only) {
  auto opened = open_partition_or_report(target, read_only);
  if (!opened) return opened;
  fs::MountOptions options;
  options.read_only = read_only;
  auto config = sim::fs_config(opened->flash->profile());
  // Offline, the files a tool writes get the host's time (a module stamps
  // them with its own clock).
  config.clock = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto mounted = fs::FileSystem::mount(opened->device(), config, options);
  if (!mounted) {
    return tl::unexpected(
        report_fs_error("cannot mount " + opened->entry->spec.name + " (run `vmodem image fsck`)",
                        mounted.error()));
  }
  opened->fs = std::move(*mounted);
  return opened;
}

int sync_or_report(OpenedFs& opened) {
  if (auto ok = opened.fs->sync(); !ok) return report_fs_error("sync", ok.error());
  if (auto ok = opened.flash->lock().storage().sync(); !ok)
    return report_error(kExitIo, "cannot write the image: " + ok.error().message());
  return kExitOk;
}

}  // namespace vmodem::cli
