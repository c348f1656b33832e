#include "cli_support.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>

#include "process.hpp"

namespace vmodem::fscli {

Outcome shell(const std::string& command) {
  return vmodem::testing::run_shell(command);
}

Outcome vmodem(const std::string& args, bool stderr_too) {
  return shell(std::string(VMODEM_BINARY) + " " + args + (stderr_too ? " 2>&1" : " 2>/dev/null"));
}

std::filesystem::path make_image(const std::filesystem::path& state) {
  (void)vmodem("run --once --seed 5 --log-level warn --state " + state.string());
  return state / "nand.img";
}

bool wait_mounted(const std::filesystem::path& dir, bool mounted) {
  for (int i = 0; i < 500; ++i) {
    struct stat self {
    }, parent{};
    const bool is_mount = ::stat(dir.c_str(), &self) == 0 &&
                          ::stat(dir.parent_path().c_str(), &parent) == 0 &&
                          self.st_dev != parent.st_dev;
    if (is_mount == mounted) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string read_host_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_host_file(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

}  // namespace vmodem::fscli
