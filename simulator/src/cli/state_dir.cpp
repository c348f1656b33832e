#include "cli/state_dir.hpp"

#include <cstdlib>

namespace vmodem::cli {

std::filesystem::path default_state_dir(const std::string& profile) {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "vmodem" / profile;
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".local" / "state" / "vmodem" / profile;
  }
  return std::filesystem::temp_directory_path() / "vmodem" / profile;
}

}  // namespace vmodem::cli
