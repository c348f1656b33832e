#pragma once

// The host side of a PTY test: opens a path like host software opens
// /dev/ttyUSB2, writes commands, reads with a deadline.

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace vmodem::at::testing {

class HostSerial {
 public:
  explicit HostSerial(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_NOCTTY)) {
    if (fd_ < 0) return;
    termios modes{};
    ::tcgetattr(fd_, &modes);
    ::cfmakeraw(&modes);
    ::tcsetattr(fd_, TCSANOW, &modes);
  }
  ~HostSerial() { close(); }
  HostSerial(const HostSerial&) = delete;
  HostSerial& operator=(const HostSerial&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until `expected` has been seen as a suffix of what arrived, or the
  // deadline passes. Returns everything read.
  std::string read_until(std::string_view expected,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return read_while(
        [&](const std::string& got) {
          return got.size() < expected.size() ||
                 got.substr(got.size() - expected.size()) != expected;
        },
        timeout);
  }

  // Reads until `marker` has been seen anywhere (more may follow it in the
  // same read), or the deadline passes. Returns everything read.
  std::string read_past(std::string_view marker,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return read_while([&](const std::string& got) { return got.find(marker) == std::string::npos; },
                      timeout);
  }

  // Reads whatever arrives within `window`.
  std::string read_for(std::chrono::milliseconds window) {
    return read_until(std::string_view("\x01\x02\x03 never"), window);
  }

 private:
  template <typename More>
  std::string read_while(More more, std::chrono::milliseconds timeout) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (more(got)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  }

  int fd_ = -1;
};

}  // namespace vmodem::at::testing
