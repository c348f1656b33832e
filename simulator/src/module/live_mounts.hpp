// `vmodem run --mount DIR`: the running module's file systems at host
// directories (AP FS at DIR/ufs, modem FS at DIR/efs) while it is APP RDY.
//
// Host file operations go through the module's own FileSystem instances on
// the FUSE threads (holding FileSystem::mutex(), as the AT handlers do), so a
// host `cp` costs NAND operations and a power cut can tear it. The module
// unmounts before it drops its file systems (power loss, reset, power-off)
// and mounts again when the next boot reaches APP RDY.
#pragma once

#include <filesystem>
#include <memory>

#include <vmodem/fs/fuse.hpp>

namespace vmodem::sim {

class LiveMounts {
 public:
  explicit LiveMounts(std::filesystem::path root);  // empty root: never mounts
  ~LiveMounts();
  LiveMounts(const LiveMounts&) = delete;
  LiveMounts& operator=(const LiveMounts&) = delete;

  bool enabled() const { return !root_.empty(); }
  // Mounts both (failures are logged: the module keeps running without them).
  void mount(fs::FileSystem* modem, fs::FileSystem* ap);
  // Unmounts both and waits for the FUSE threads: afterwards no FUSE request
  // touches the file systems. Must run before they are destroyed.
  void unmount();

 private:
  std::unique_ptr<fs::FuseMount> start(fs::FileSystem* fs, const char* name);

  std::filesystem::path root_;
  std::unique_ptr<fs::FuseMount> modem_, ap_;
};

}  // namespace vmodem::sim
