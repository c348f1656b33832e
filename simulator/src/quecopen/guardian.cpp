#include "quecopen/guardian.hpp"

#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include <vmodem/fs/write_back.hpp>
#include <vmodem/nand/rng.hpp>

namespace vmodem::sim::quecopen {

LinuxPath resolve(std::span<const StageFs> mounted, const std::string& path) {
  LinuxPath best;
  std::size_t best_length = 0;
  for (const StageFs& one : mounted) {
    const std::string& mount = one.spec->linux_mount;
    if (mount.empty()) continue;
    const bool root = mount == "/";
    const bool under =
        root || path == mount ||
        (path.starts_with(mount) && path.size() > mount.size() && path[mount.size()] == '/');
    if (!under || (best.mounted && mount.size() <= best_length)) continue;
    best.mounted = &one;
    best_length = mount.size();
    best.inner = root ? path : path.substr(mount.size());
    if (best.inner.empty()) best.inner = "/";
  }
  return best;
}

fs::Result<AppSyncReport> run_app_sync(const FsBootEnv& env, std::span<const StageFs> mounted) {
  const AppSyncConfig& config = env.profile.app_sync;
  // One page cache per file system, shared by the paths on it; the
  // flusher's draws come from the image's seed.
  std::map<fs::FileSystem*, std::unique_ptr<fs::WriteBack>> caches;
  auto clock = env.config.clock;
  auto side_of = [&](const std::string& apps, const std::string& tag) -> fs::Result<AppSide> {
    const LinuxPath where_apps = resolve(mounted, apps);
    const LinuxPath where_tag = resolve(mounted, tag);
    if (!where_apps.mounted || !where_tag.mounted || where_apps.mounted != where_tag.mounted) {
      return fs::fail(fs::Errc::invalid_argument,
                      apps + " and " + tag + " must be on one mounted file system");
    }
    fs::FileSystem* fs = where_apps.mounted->fs;
    auto& cache = caches[fs];
    if (!cache) {
      fs::WriteBackConfig wb;
      wb.flusher_one_in = config.flusher_one_in;
      wb.seed = nand::Rng::mix(env.manufacture_seed, caches.size());
      cache = std::make_unique<fs::WriteBack>(
          *fs, wb, [clock] { return clock ? clock() * 1000 : std::int64_t{0}; });
    }
    return AppSide{fs, cache.get(), where_apps.inner, where_tag.inner};
  };
  auto system = side_of(config.apps, config.tag);
  if (!system) return tl::unexpected(system.error());
  auto backup = side_of(config.backup_apps, config.backup_tag);
  if (!backup) return tl::unexpected(backup.error());
  auto report =
      sync_apps(*system, *backup, config.atomic_tag ? TagWrite::atomic : TagWrite::reference);
  if (!report) return report;
  // Nothing stays in RAM past the boot step (the module keeps no cache).
  for (auto& [fs, cache] : caches)
    if (auto synced = cache->sync(); !synced) return tl::unexpected(synced.error());
  return report;
}

void announce(const FsBootEnv& env, const AppSyncReport& report) {
  const bool copied =
      report.outcome == SyncOutcome::to_backup || report.outcome == SyncOutcome::to_system;
  if (env.log) {
    env.log->log(copied ? spdlog::level::info : spdlog::level::debug,
                 "app sync: {} (system version {}, backup version {}), {} files, {} bytes",
                 to_string(report.outcome), report.system_version, report.backup_version,
                 report.files, report.bytes);
    if (report.outcome == SyncOutcome::unparsable_tag)
      env.log->warn("app sync: a version tag is not a number: nothing synced");
  }
  if (env.emit) {
    env.emit("APP_SYNC", {{"outcome", to_string(report.outcome)},
                          {"system_version", report.system_version},
                          {"backup_version", report.backup_version},
                          {"files", report.files},
                          {"bytes", report.bytes}});
  }
}

}  // namespace vmodem::sim::quecopen
