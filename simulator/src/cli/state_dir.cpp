#include "cli/state_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

namespace {

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Tightens `path` to `mode` if it is ours, of `type` and open to others.
void tighten(const std::filesystem::path& path, mode_t type, mode_t mode,
             std::vector<std::string>& notes) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || (st.st_mode & S_IFMT) != type) return;
  if (st.st_uid != ::geteuid() || (st.st_mode & 07777 & ~mode) == 0) return;
  if (::chmod(path.c_str(), mode) == 0) {
    notes.push_back(path.string() + " was mode " + octal(st.st_mode) + ", now " + octal(mode) +
                    " (other users could read it)");
  } else {
    notes.push_back("cannot restrict " + path.string() + ": " + std::strerror(errno));
  }
}

}  // namespace

tl::expected<std::vector<std::string>, std::string> prepare_state_dir(
    const std::filesystem::path& state) {
  const std::string where = "state directory " + state.string();
  std::error_code ec;
  const auto status = std::filesystem::status(state, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return tl::unexpected(where + ": " + ec.message());
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status))
    return tl::unexpected(where + " exists and is not a directory");
  if (!std::filesystem::exists(status)) {
    ec.clear();  // "no such file" from status(): what we are about to fix
    if (state.has_parent_path()) std::filesystem::create_directories(state.parent_path(), ec);
    if (!ec && ::mkdir(state.c_str(), 0700) != 0 && errno != EEXIST)
      ec = std::error_code(errno, std::generic_category());
    if (ec) return tl::unexpected("cannot create " + where + ": " + ec.message());
  }
  // Refused here, before any file is made: a read-only file system (EROFS
  // even for root) or a directory we may not write.
  if (::faccessat(AT_FDCWD, state.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    return tl::unexpected(where + " is not writable: " + std::strerror(errno));
  std::vector<std::string> notes;
  tighten(state, S_IFDIR, 0700, notes);
  for (const char* name : {"nand.img", "vmodem.log", "at-trace.log"})
    tighten(state / name, S_IFREG, 0600, notes);
  return notes;
}

}  // namespace vmodem::cli
