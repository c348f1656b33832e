#include "pty_device.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
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
  PtyPair pair(master, slave, name.data());
  termios modes{};
  if (::tcgetattr(slave, &modes) != 0) return tl::unexpected(system_error("tcgetattr", errno));
  // Raw: no echo, no line editing, no CR/LF translation; the engine does V.250.
  ::cfmakeraw(&modes);
  if (::tcsetattr(slave, TCSANOW, &modes) != 0) {
    return tl::unexpected(system_error("tcsetattr", errno));
  }
  // Our own fds must not leak into processes the simulator may start.
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  return pair;
}

PtyPair::PtyPair(int master, int slave, std::string path)
    : master_(master), slave_(slave), slave_path_(std::move(path)) {}

PtyPair::PtyPair(PtyPair&& other) noexcept
    : master_(std::exchange(other.master_, -1)),
      slave_(std::exchange(other.slave_, -1)),
      slave_path_(std::move(other.slave_path_)) {}

PtyPair& PtyPair::operator=(PtyPair&& other) noexcept {
  if (this != &other) {
    close_all();
    master_ = std::exchange(other.master_, -1);
    slave_ = std::exchange(other.slave_, -1);
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
  if (slave_ >= 0) ::close(slave_);
  master_ = -1;
  slave_ = -1;
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
