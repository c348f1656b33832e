#include "module/live_mounts.hpp"

#include <spdlog/spdlog.h>

namespace vmodem::sim {

LiveMounts::LiveMounts(std::filesystem::path root, std::shared_ptr<spdlog::logger> log)
    : root_(std::move(root)), log_(std::move(log)) {}

LiveMounts::~LiveMounts() {
  unmount();
}

std::unique_ptr<fs::FuseMount> LiveMounts::start(fs::SharedFileSystem* fs,
                                                 const std::string& name) {
  if (!fs) return nullptr;
  const auto dir = root_ / name;
  if (fs::clear_dead_mount(dir))
    log_->warn("live mount: detached the dead mount a killed vmodem left at {}", dir.string());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    log_->error("live mount: cannot create {}: {}", dir.string(), ec.message());
    return nullptr;
  }
  fs::FuseOptions options;
  options.fs_name = "vmodem:" + name;
  auto mounted = fs::FuseMount::start(*fs, dir, options);
  if (!mounted) {
    log_->error("live mount of {} at {}: {}", name, dir.string(), mounted.error().message());
    return nullptr;
  }
  log_->info("{} file system mounted at {}", name, dir.string());
  return std::move(*mounted);
}

void LiveMounts::serve(std::unique_ptr<fs::FuseMount>& mount, fs::SharedFileSystem* fs,
                       const std::string& name) {
  if (mount && !mount->running()) mount.reset();  // unmounted from outside
  if (!mount) {
    mount = start(fs, name);
    return;
  }
  if (fs) {
    mount->attach(*fs);
    log_->info("{} file system served again at {}", name, mount->dir().string());
  }
}

void LiveMounts::mount(const std::vector<Served>& file_systems) {
  if (!enabled()) return;
  for (const auto& [name, fs] : file_systems)
    serve(mounts_[name], fs, name);
}

void LiveMounts::detach(bool orderly) {
  for (auto& [name, mount] : mounts_) {
    if (mount) mount->detach(orderly);
  }
}

void LiveMounts::unmount() {
  for (auto& [name, mount] : mounts_) {
    if (!mount) continue;
    if (auto ok = mount->stop(); !ok)
      log_->warn("unmount {}: {}", mount->dir().string(), ok.error().message());
    mount.reset();
  }
}

}  // namespace vmodem::sim
