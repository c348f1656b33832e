#include "module/guardians.hpp"

namespace vmodem::sim {

namespace {

// BG95/BG77/BG600L (seed 000): each file system with backup partitions is
// booted through its backup engine, which counts boots, runs the ten probe
// points and restores from the backup when one fails.
class PartitionBackupGuardian final : public BootGuardian {
 public:
  std::string_view name() const override { return "partition-backup"; }
  std::optional<FsBoot> boot(const FsBootEnv& env, const FileSystemSpec& fs,
                             bool manufacture) const override {
    if (!fs.has_backup()) return std::nullopt;
    return boot_file_system(env, fs, manufacture, BackupUse::partition);
  }
};

const PartitionBackupGuardian kPartitionBackup;
constexpr const BootGuardian* kBg95[] = {&kPartitionBackup};

}  // namespace

std::span<const BootGuardian* const> guardians_of(Family family) {
  switch (family) {
    case Family::bg95:
      return kBg95;
    case Family::uc20:
    case Family::ec2x_quecopen:
    case Family::quecpython:
      break;
  }
  return {};
}

FsBoot boot_file_system(const FsBootEnv& env, const FileSystemSpec& fs, bool manufacture) {
  for (const BootGuardian* guardian : guardians_of(env.profile.family)) {
    if (auto booted = guardian->boot(env, fs, manufacture)) return std::move(*booted);
  }
  return boot_file_system(env, fs, manufacture, BackupUse::none);
}

FsBoot boot_file_system(const FsBootEnv& env, PartitionRole role, bool manufacture) {
  const FileSystemSpec* fs =
      env.profile.file_system(role == PartitionRole::ap_fs ? FsRole::ap : FsRole::modem);
  return boot_file_system(env, *fs, manufacture);
}

}  // namespace vmodem::sim
