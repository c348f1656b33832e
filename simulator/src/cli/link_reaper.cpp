#include "cli/link_reaper.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <utility>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vmodem::cli {

namespace {

struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
};

// The helper: fd 3 is its end of the socket pair, fd 4 the state directory.
// Reads "<dev> <ino> <name>\n" records until the daemon's end closes, then
// unlinks each named link whose inode is still the recorded one.
[[noreturn]] void serve(int channel, int dir) {
  std::map<std::string, Identity> links;
  std::string pending;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(channel, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
      unsigned long long dev = 0, ino = 0;
      char name[256] = {};
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      // NOLINTNEXTLINE(cert-err34-c): a malformed record is skipped
      if (std::sscanf(line.c_str(), "%llu %llu %255s", &dev, &ino, name) == 3)
        links[name] = {static_cast<dev_t>(dev), static_cast<ino_t>(ino)};
    }
  }
  for (const auto& [name, id] : links) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
        st.st_dev == id.dev && st.st_ino == id.ino) {
      ::unlinkat(dir, name.c_str(), 0);
    }
  }
  ::_exit(0);
}

}  // namespace

tl::expected<LinkReaper, std::string> LinkReaper::start(const std::filesystem::path& state_dir) {
  const int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return tl::unexpected(state_dir.string() + ": " + std::strerror(errno));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    const int error = errno;
    ::close(dir);
    return tl::unexpected(std::string("socketpair: ") + std::strerror(error));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(dir);
    ::close(pair[0]);
    ::close(pair[1]);
    return tl::unexpected(std::string("fork: ") + std::strerror(error));
  }
  if (pid == 0) {
    // The daemon has one thread here (start's precondition), so the helper
    // may allocate. It keeps nothing of the daemon but two descriptors.
    ::prctl(PR_SET_NAME, "vmodem-reaper");
    // A Ctrl-C or a SIGTERM to the process group is for the daemon, which
    // then exits and closes its end; the helper finishes its job after it.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    // dup2 clears FD_CLOEXEC on the copies; 3 and 4 may be the originals.
    const int channel = ::fcntl(pair[1], F_DUPFD, 10);
    const int dir_copy = ::fcntl(dir, F_DUPFD, 10);
    if (channel < 0 || dir_copy < 0) ::_exit(1);
    ::dup2(channel, 3);
    ::dup2(dir_copy, 4);
    ::close_range(5, ~0U, 0);  // the daemon's end of the pair included
    serve(3, 4);
  }
  ::close(dir);
  ::close(pair[1]);
  return LinkReaper(pair[0], state_dir);
}

LinkReaper::LinkReaper(LinkReaper&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), dir_(std::move(other.dir_)) {}

LinkReaper& LinkReaper::operator=(LinkReaper&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    dir_ = std::move(other.dir_);
  }
  return *this;
}

LinkReaper::~LinkReaper() {
  if (fd_ >= 0) ::close(fd_);
}

void LinkReaper::linked(const std::filesystem::path& link) const {
  struct stat st {};
  if (fd_ < 0 || ::lstat(link.c_str(), &st) != 0) return;
  // Relative to the directory the helper holds open ("ttyUSB2", "3/ttyUSB2").
  const std::string name = link.lexically_relative(dir_).string();
  if (name.empty() || name.starts_with("..") || name.find_first_of(" \n") != std::string::npos)
    return;
  const std::string record =
      std::to_string(st.st_dev) + " " + std::to_string(st.st_ino) + " " + name + "\n";
  // One record is far below the socket buffer and written whole or not at
  // all; MSG_NOSIGNAL: a helper that is gone must not kill the daemon.
  (void)::send(fd_, record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace vmodem::cli
