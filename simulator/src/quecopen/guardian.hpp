// The EC2x QuecOpen boot step (seed 001) over the module's mounted file
// systems: the profile's Linux paths resolved to file systems by their
// linux_mount, a page cache over each, and the application sync.
#pragma once

#include <span>
#include <string>

#include <vmodem/simulator/profile.hpp>

#include "module/guardians.hpp"
#include "quecopen/app_sync.hpp"

namespace vmodem::sim::quecopen {

// Where a Linux path lives: the mounted file system whose linux_mount is
// the longest prefix of `path`, and the path inside it. fs is null when no
// mounted file system holds it.
struct LinuxPath {
  const StageFs* mounted = nullptr;
  std::string inner;
};
LinuxPath resolve(std::span<const StageFs> mounted, const std::string& path);

// Runs the sync of env.profile.app_sync over `mounted`; the page caches are
// drained before it returns. invalid_argument when a path is on no mounted
// file system; otherwise the file systems' errors.
fs::Result<AppSyncReport> run_app_sync(const FsBootEnv& env, std::span<const StageFs> mounted);

// What a sync did, to the log (info when it copied) and as the APP_SYNC
// event — the same at boot and for `ctl app-sync`.
void announce(const FsBootEnv& env, const AppSyncReport& report);

}  // namespace vmodem::sim::quecopen
