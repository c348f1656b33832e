#include "cli/at_client.hpp"

#include <cerrno>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace vmodem::cli {

namespace {

// How often a port that is not there (yet, or again) is looked for.
constexpr auto kReopenPoll = std::chrono::milliseconds(10);

int remaining_ms(AtClient::Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - AtClient::Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

void make_raw(int fd) {
  termios tio{};
  if (tcgetattr(fd, &tio) != 0) return;  // not a terminal: bytes pass as they are
  cfmakeraw(&tio);
  (void)tcsetattr(fd, TCSANOW, &tio);
}

}  // namespace

AtClient::~AtClient() {
  close();
}

void AtClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool AtClient::open(Clock::time_point deadline) {
  close();
  for (;;) {
    fd_ = ::open(port_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ >= 0) {
      make_raw(fd_);
      return true;
    }
    error_ = "cannot open " + port_.string() + ": " +
             std::error_code(errno, std::generic_category()).message();
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kReopenPoll);
  }
}

bool AtClient::write(std::span<const char> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      (void)::poll(&p, 1, 100);
      continue;
    }
    error_ = "the port went away while writing";
    return false;
  }
  return true;
}

bool AtClient::fill(Clock::time_point deadline, bool& gone) {
  gone = false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, remaining_ms(deadline));
  if (ready == 0) return false;
  char chunk[4096];
  const ssize_t n = ::read(fd_, chunk, sizeof chunk);
  if (n > 0) {
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  gone = true;  // EOF or EIO: the module's side of the PTY is gone
  return false;
}

std::optional<std::string> AtClient::next_line(Clock::time_point deadline, bool reopen) {
  for (;;) {
    while (!buffer_.empty() && (buffer_.front() == '\r' || buffer_.front() == '\n'))
      buffer_.erase(0, 1);
    if (const auto end = buffer_.find_first_of("\r\n"); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end);
      return line;
    }
    if (buffer_ == "> ") {
      buffer_.clear();
      return std::string("> ");
    }
    bool gone = false;
    if (fill(deadline, gone)) continue;
    if (!gone) {
      error_ = "no answer from " + port_.string() + " before the timeout";
      return std::nullopt;
    }
    buffer_.clear();
    if (!reopen) {
      error_ = "the module closed " + port_.string() + " (a reset?)";
      return std::nullopt;
    }
    ++reopened_;
    if (!open(deadline)) return std::nullopt;
  }
}

}  // namespace vmodem::cli
