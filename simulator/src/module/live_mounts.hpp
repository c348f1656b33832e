// `vmodem run --mount DIR`: the running module's file systems at host
// directories (DIR/<mount name> from the profile: the AP FS at DIR/ufs, the
// modem FS at DIR/efs) while it is APP RDY.
//
// Host file operations go through the module's own FileSystem instances on
// the FUSE threads (through their SharedFileSystem lock, as the AT handlers), so a
// host `cp` costs NAND operations and a power cut can tear it. The module
// detaches its file systems from the mounts before it drops them (power loss,
// reset, power-off) and attaches the new ones when the next boot reaches APP
// RDY. The mounts themselves stay in place until the daemon exits: were they
// unmounted, a host's writes would land in the plain directory underneath and
// vanish under the next mount. While detached every access fails with EIO, as
// on a device that lost power.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include <vmodem/fs/fuse.hpp>

namespace vmodem::sim {

class LiveMounts {
 public:
  // Empty root: never mounts. Logs to `log`.
  LiveMounts(std::filesystem::path root, std::shared_ptr<spdlog::logger> log);
  ~LiveMounts();
  LiveMounts(const LiveMounts&) = delete;
  LiveMounts& operator=(const LiveMounts&) = delete;

  bool enabled() const { return !root_.empty(); }
  struct Served {
    std::string name;  // the directory under the root
    fs::SharedFileSystem* fs;
  };
  // Serves each: mounts it the first time (failures are logged: the module
  // keeps running without it), attaches it to the existing mount after.
  void mount(const std::vector<Served>& file_systems);
  // Takes every file system away, the mounts staying (EIO until mount()):
  // afterwards no FUSE request touches them. Must run before they are
  // destroyed. `orderly`: files the host still has open are committed first.
  void detach(bool orderly);
  // Unmounts every one and waits for the FUSE threads (the daemon exits).
  void unmount();

 private:
  void serve(std::unique_ptr<fs::FuseMount>& mount, fs::SharedFileSystem* fs,
             const std::string& name);
  std::unique_ptr<fs::FuseMount> start(fs::SharedFileSystem* fs, const std::string& name);

  std::filesystem::path root_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, std::unique_ptr<fs::FuseMount>> mounts_;  // by directory name
};

}  // namespace vmodem::sim
