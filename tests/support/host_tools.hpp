// Finding the host tools the tests point at vmodem (Debian packages).
#pragma once

#include <filesystem>
#include <string>

namespace vmodem::testing {

// The path of `name` in the directories Debian installs programs into
// (system tools such as mtd-utils' ubinize live in /usr/sbin, which a
// non-root PATH often lacks); "" when it is not installed.
inline std::string host_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
    const auto path = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(path)) return path.string();
  }
  return {};
}

}  // namespace vmodem::testing
