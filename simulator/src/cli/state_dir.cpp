#include "cli/state_dir.hpp"

#include <cstdlib>

namespace vmodem::cli {

std::filesystem::path default_state_dir(const std::string& profile) {
  // getenv is only unsafe against a concurrent setenv; vmodem never sets its
  // environment, and the CLI reads it before starting any thread.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "vmodem" / profile;
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".local" / "state" / "vmodem" / profile;
  }
  return std::filesystem::temp_directory_path() / "vmodem" / profile;
}

}  // namespace vmodem::cli
