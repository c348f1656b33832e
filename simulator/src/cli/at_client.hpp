// The host side of an AT port for `vmodem at`: what a terminal program does,
// as a blocking client. The port is a PTY (or the state directory's link to
// one); when the module re-enumerates (a reset, an update) the PTY goes and
// a new one appears behind the same link, and the client reopens it.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace vmodem::cli {

class AtClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AtClient(std::filesystem::path port) : port_(std::move(port)) {}
  ~AtClient();
  AtClient(const AtClient&) = delete;
  AtClient& operator=(const AtClient&) = delete;

  // Opens the port (raw, no echo on the host side), retrying until
  // `deadline` while it does not exist yet. False with error() set if it
  // never opened.
  bool open(Clock::time_point deadline);
  // Writes all of `bytes`; false (error() set) if the port went away.
  bool write(std::span<const char> bytes);
  // The next line from the module (without CR LF; empty lines skipped), or
  // the prompt "> " (which has no line end). When the port goes away
  // (EOF/EIO: the module reset) and `reopen`, waits for it to come back and
  // goes on. nullopt at `deadline`, or when the port is gone and not
  // reopened (error() says which).
  std::optional<std::string> next_line(Clock::time_point deadline, bool reopen);
  const std::string& error() const { return error_; }
  // How many times the port went away and was opened again.
  int reopened() const { return reopened_; }

 private:
  void close();
  // Reads what is there into buffer_, waiting until `deadline`; false when
  // the port went away or the deadline passed.
  bool fill(Clock::time_point deadline, bool& gone);

  std::filesystem::path port_;
  int fd_ = -1;
  std::string buffer_;
  std::string error_;
  int reopened_ = 0;
};

}  // namespace vmodem::cli
