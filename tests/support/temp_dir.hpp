// A directory under $TMPDIR removed with everything in it at scope exit.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mount.h>

namespace vmodem::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vmodem-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    detach_mounts_below();
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  // Mounts left under the directory (a daemon killed with SIGKILL or a test
  // that failed half-way leaves its FUSE mounts) are detached first:
  // remove_all cannot descend a dead mount, so the directory and its
  // images would stay on the disk, and through a live one it would empty
  // the file system behind it.
  void detach_mounts_below() const {
    std::error_code ec;
    const auto canonical = std::filesystem::canonical(path_, ec);
    if (ec) return;
    const std::string prefix = canonical.string() + "/";
    std::vector<std::string> points;
    std::ifstream info("/proc/self/mountinfo");
    for (std::string line; std::getline(info, line);) {
      std::istringstream fields(line);
      std::string id, parent, device, root, point;
      fields >> id >> parent >> device >> root >> point;
      if (point.starts_with(prefix)) points.push_back(point);
    }
    std::ranges::sort(points, std::greater<>());  // the deepest first
    for (const auto& point : points) {
      if (::umount2(point.c_str(), MNT_DETACH) != 0) {
        // Not root: a FUSE mount of our own user can still be taken away.
        const std::string command = "fusermount3 -uz '" + point + "' 2>/dev/null";
        (void)std::system(command.c_str());
      }
    }
  }

  std::filesystem::path path_;
};

}  // namespace vmodem::testing
