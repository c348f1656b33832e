#include "cli/fs_access.hpp"

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "module/fs_config.hpp"

namespace vmodem::cli {

namespace {

bool is_fs_role(sim::PartitionRole role) {
  return role == sim::PartitionRole::modem_fs || role == sim::PartitionRole::ap_fs;
}

// "modem" and "ap" name the file systems by role, so scripts work on every
// profile whatever its partition names.
tl::expected<const sim::PartitionEntry*, int> resolve(const sim::Profile& profile,
                                                      const std::string& name) {
  const sim::PartitionEntry* entry = nullptr;
  if (name == "modem") {
    entry = profile.find_role(sim::PartitionRole::modem_fs);
  } else if (name == "ap") {
    entry = profile.find_role(sim::PartitionRole::ap_fs);
  } else {
    entry = profile.find(name);
  }
  if (!entry) {
    std::string names;
    for (const auto& p : profile.partitions) {
      if (is_fs_role(p.role)) names += (names.empty() ? "" : ", ") + p.spec.name;
    }
    return tl::unexpected(report_error(kExitNotFound, "profile " + profile.name +
                                                          " has no file-system partition '" + name +
                                                          "' (try modem, ap, " + names + ")"));
  }
  if (!is_fs_role(entry->role)) {
    return tl::unexpected(report_error(kExitUsage, "partition " + entry->spec.name + " (" +
                                                       std::string(to_string(entry->role)) +
                                                       ") does not hold a file system"));
  }
  return entry;
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

tl::expected<OpenedFs, int> open_partition_or_report(const FsTarget& target, bool read_only) {
  OpenedFs opened;
  auto flash = open_image_or_report(target.image, target.profile, read_only);
  if (!flash) return tl::unexpected(flash.error());
  opened.flash = std::move(*flash);
  auto entry = resolve(opened.flash->profile(), target.partition);
  if (!entry) return tl::unexpected(entry.error());
  opened.entry = *entry;
  auto partition = opened.flash->partition(opened.entry->spec.name);
  if (!partition) return tl::unexpected(report_error(kExitCorrupt, partition.error().message()));
  opened.partition = std::move(*partition);
  return opened;
}

tl::expected<OpenedFs, int> mount_or_report(const FsTarget& target, bool read_only) {
  auto opened = open_partition_or_report(target, read_only);
  if (!opened) return opened;
  fs::MountOptions options;
  options.read_only = read_only;
  auto mounted =
      fs::FileSystem::mount(*opened->partition, sim::fs_config(opened->flash->profile()), options);
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
  if (auto ok = opened.flash->storage().sync(); !ok)
    return report_error(kExitIo, "cannot write the image: " + ok.error().message());
  return kExitOk;
}

}  // namespace vmodem::cli
