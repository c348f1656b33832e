#include "module/guardians.hpp"

#include <spdlog/spdlog.h>

#include "quecopen/guardian.hpp"
#include "quecpython/app_update.hpp"
#include "quecpython/guardian.hpp"

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

// QuecPython (seed 002): /usr and /bak mount plainly (/bak read-only); once
// both are up, before APP RDY, the listed files of /usr are verified
// against /usr/checksum.json and restored from /bak.
class ChecksumGuardian final : public BootGuardian {
 public:
  std::string_view name() const override { return "quecpython-checksum"; }
  std::optional<FsBoot> boot(const FsBootEnv&, const FileSystemSpec&, bool) const override {
    return std::nullopt;
  }
  fs::Result<std::uint32_t> after_stage(const FsBootEnv& env, std::span<const StageFs> mounted,
                                        bool before_rdy) const override {
    if (before_rdy) return 0;
    fs::FileSystem* usr = nullptr;
    fs::FileSystem* bak = nullptr;
    for (const StageFs& one : mounted) {
      if (one.spec->role == FsRole::ap) usr = one.fs;
      if (one.spec->app_backup) bak = one.fs;
    }
    // The application update first: a journal it left must be finished
    // before the files are checked against checksum.json.
    if (usr) {
      if (auto updated = app_update(env, *usr, bak); !updated)
        return tl::unexpected(updated.error());
    }
    if (!usr || !bak) return 0;
    auto report = quecpython::restore_from_backup(*usr, *bak);
    if (!report) return tl::unexpected(report.error());
    if (!report->enabled) {
      env.log->debug("quecpython backup restore off: {}", report->disabled_reason);
      return 0;
    }
    for (const auto& problem : report->problems)
      env.log->warn("quecpython backup restore: {}", problem);
    for (const auto& file : report->restored) {
      // A first boot copies checksum.json as a matter of course (seed step
      // 2): worth a line, not a warning. A restored application file is.
      const bool list = file.reason == quecpython::kReasonListMissing;
      env.log->log(list ? spdlog::level::info : spdlog::level::warn,
                   "quecpython backup restore: {} restored from /bak ({})", file.path, file.reason);
      if (env.emit) env.emit("FILE_RESTORED", {{"path", file.path}, {"reason", file.reason}});
    }
    return static_cast<std::uint32_t>(report->restored.size());
  }

 private:
  // Applies a staged application update (quecpython/app_update.hpp) and
  // says so: the APP_FOTA event, a log line.
  static fs::Status app_update(const FsBootEnv& env, fs::FileSystem& usr, fs::FileSystem* bak);
};

fs::Status ChecksumGuardian::app_update(const FsBootEnv& env, fs::FileSystem& usr,
                                        fs::FileSystem* bak) {
  const quecpython::AppUpdateOptions options{.model = env.profile.name,
                                             .journal = env.profile.fota.app_journal};
  auto report = quecpython::apply_staged_update(usr, bak, options);
  if (!report) return tl::unexpected(report.error());
  if (report->state == quecpython::AppUpdateState::none) return {};
  const std::string_view state = quecpython::to_string(report->state);
  if (report->state == quecpython::AppUpdateState::refused) {
    env.log->warn("application update refused (END {}): {}", report->end_code, report->message);
  } else {
    env.log->info("application update {}: {} added, {} changed, {} removed; {} files written now",
                  state, report->added, report->changed, report->removed, report->files.size());
  }
  if (env.emit) {
    nlohmann::json data = {
        {"state", state},         {"code", report->end_code},   {"files", report->files},
        {"added", report->added}, {"changed", report->changed}, {"removed", report->removed}};
    if (!report->message.empty()) data["message"] = report->message;
    env.emit("APP_FOTA", std::move(data));
  }
  return {};
}

// EC2x QuecOpen (seed 001): system and usr_data mount through UBI; once the
// AP stage is up, the application tree and its tag are synced between them
// (the higher version over the lower), as app_auto_backup_restore.sh does.
class AppSyncGuardian final : public BootGuardian {
 public:
  std::string_view name() const override { return "quecopen-app-sync"; }
  std::optional<FsBoot> boot(const FsBootEnv&, const FileSystemSpec&, bool) const override {
    return std::nullopt;
  }
  fs::Result<std::uint32_t> after_stage(const FsBootEnv& env, std::span<const StageFs> mounted,
                                        bool before_rdy) const override {
    // The user's own script replaces the built-in sync: the module runs it
    // once the stage is up (Module::boot_script_in_boot).
    if (before_rdy || !env.profile.app_sync.boot_script.empty()) return 0;
    auto report = quecopen::run_app_sync(env, mounted);
    if (!report) return tl::unexpected(report.error());
    quecopen::announce(env, *report);
    return 0;
  }
};

const PartitionBackupGuardian kPartitionBackup;
constexpr const BootGuardian* kBg95[] = {&kPartitionBackup};
const ChecksumGuardian kChecksum;
constexpr const BootGuardian* kQuecPython[] = {&kChecksum};
const AppSyncGuardian kAppSync;
constexpr const BootGuardian* kQuecOpen[] = {&kAppSync};

}  // namespace

std::span<const BootGuardian* const> guardians_of(Family family) {
  switch (family) {
    case Family::bg95:
      return kBg95;
    case Family::quecpython:
      return kQuecPython;
    case Family::ec2x_quecopen:
      return kQuecOpen;
    case Family::uc20:
      break;
  }
  return {};
}

fs::Result<std::uint32_t> BootGuardian::after_stage(const FsBootEnv&, std::span<const StageFs>,
                                                    bool) const {
  return 0;
}

fs::Result<std::uint32_t> run_stage_guardians(const FsBootEnv& env,
                                              std::span<const StageFs> mounted, bool before_rdy) {
  std::uint32_t restored = 0;
  for (const BootGuardian* guardian : guardians_of(env.profile.family)) {
    auto done = guardian->after_stage(env, mounted, before_rdy);
    if (!done) return done;
    restored += *done;
  }
  return restored;
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
