#include "pty_device.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

namespace vmodem::at::detail {

namespace {

Error system_error(std::string what, int error_number) {
  return Error{ErrorCode::kSystem,
               std::move(what) + ": " + std::generic_category().message(error_number),
               error_number};
}

}  // namespace

tl::expected<PtyPair, Error> PtyPair::open_raw() {
  int master = -1;
  int slave = -1;
  std::array<char, 128> name{};
  if (::openpty(&master, &slave, name.data(), nullptr, nullptr) != 0) {
    return tl::unexpected(system_error("openpty", errno));
  }
  // Our own fds must not leak into processes the simulator may start.
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  termios modes{};
  const bool got = ::tcgetattr(slave, &modes) == 0;
  // Raw: no echo, no line editing, no CR/LF translation; the engine does V.250.
  if (got) ::cfmakeraw(&modes);
  const bool set = got && ::tcsetattr(slave, TCSANOW, &modes) == 0;
  const int termios_errno = errno;
  ::close(slave);
  if (!set) {
    ::close(master);
    return tl::unexpected(system_error(got ? "tcsetattr" : "tcgetattr", termios_errno));
  }
  return PtyPair(master, name.data());
}

PtyPair::PtyPair(int master, std::string path) : master_(master), slave_path_(std::move(path)) {}

PtyPair::PtyPair(PtyPair&& other) noexcept
    : master_(std::exchange(other.master_, -1)), slave_path_(std::move(other.slave_path_)) {}

PtyPair& PtyPair::operator=(PtyPair&& other) noexcept {
  if (this != &other) {
    close_all();
    master_ = std::exchange(other.master_, -1);
    slave_path_ = std::move(other.slave_path_);
  }
  return *this;
}

PtyPair::~PtyPair() {
  close_all();
}

int PtyPair::release_master() noexcept {
  return std::exchange(master_, -1);
}

void PtyPair::close_all() noexcept {
  if (master_ >= 0) ::close(master_);
  master_ = -1;
}

bool has_opener(int master) noexcept {
  pollfd entry{master, 0, 0};
  return ::poll(&entry, 1, 0) >= 0 && (entry.revents & POLLHUP) == 0;
}

tl::expected<void, Error> discard_unread(int master, const std::string& slave_path) {
  // Two places hold it: the slave's flip buffers (flushed through the
  // master's output side) and the slave's line discipline (flushed from the
  // slave, which only an opener can do). Flip buffers first: the kernel
  // moves their bytes on into the line discipline meanwhile.
  if (::tcflush(master, TCOFLUSH) != 0) {
    return tl::unexpected(system_error("tcflush (master) " + slave_path, errno));
  }
  const int slave = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (slave < 0) return tl::unexpected(system_error("open " + slave_path, errno));
  const bool flushed = ::tcflush(slave, TCIFLUSH) == 0;
  const int flush_errno = errno;
  ::close(slave);
  if (!flushed) return tl::unexpected(system_error("tcflush " + slave_path, flush_errno));
  return {};
}

tl::expected<void, Error> point_symlink(const std::filesystem::path& link,
                                        const std::filesystem::path& target) {
  std::filesystem::path temporary = link;
  temporary += ".new";
  std::error_code ec;
  std::filesystem::remove(temporary, ec);
  std::filesystem::create_symlink(target, temporary, ec);
  if (ec) return tl::unexpected(system_error("symlink " + temporary.string(), ec.value()));
  std::filesystem::rename(temporary, link, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return tl::unexpected(system_error("rename to " + link.string(), ec.value()));
  }
  return {};
}

void remove_symlink(const std::filesystem::path& link) noexcept {
  std::error_code ec;
  if (std::filesystem::is_symlink(std::filesystem::symlink_status(link, ec))) {
    std::filesystem::remove(link, ec);
  }
}

}  // namespace vmodem::at::detail
