// Host-side plumbing for the module benchmark: a daemon, a raw PTY client,
// a control-socket client, and the PTY-pair floors.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

namespace vmodem::bench {

using Clock = std::chrono::steady_clock;

class Daemon {
 public:
  Daemon(const std::filesystem::path& state, std::vector<std::string> extra);
  ~Daemon();
  const std::filesystem::path& state() const { return state_; }

 private:
  std::filesystem::path state_;
  pid_t pid_ = -1;
};

// A raw, non-canonical fd on a PTY slave (the module's port or a floor pair).
class Port {
 public:
  explicit Port(int fd) : fd_(fd) {}
  static Port open_link(const std::filesystem::path& link, std::chrono::milliseconds timeout);
  ~Port();
  Port(Port&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Port& operator=(Port&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  bool ok() const { return fd_ >= 0; }
  void write_all(const void* data, std::size_t size);
  // Reads until `needle` is in what was read (kept in `buffer`).
  bool read_until(const std::string& needle, std::string& buffer,
                  std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// JSON lines on the module's control socket.
class Control {
 public:
  explicit Control(const std::filesystem::path& socket);
  ~Control();
  nlohmann::json call(const std::string& command,
                      const nlohmann::json& arguments = nlohmann::json::object());
  // Waits for an event whose data.state equals `state`.
  bool wait_power_event(const std::string& state, std::chrono::milliseconds timeout);

 private:
  std::string read_line(std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string pending_;
};

// A PTY pair whose master side is served by a thread: either answering
// "\r\nOK\r\n" to every CR (the AT floor) or swallowing bytes (the raw
// throughput floor). The client end is the slave.
class FloorPty {
 public:
  // echo_ok: "\r\nOK\r\n" for every CR; sink: swallows everything;
  // upload: the AT+QFUPL exchange with nothing behind it (a command line
  // "...,<size>[,...]\r" gets CONNECT, then <size> bytes get
  // +QFUPL: <size>,0 and OK) — the floor of an upload through a PTY.
  enum class Mode { echo_ok, sink, upload };
  explicit FloorPty(Mode mode);
  ~FloorPty();
  Port& client() { return client_; }
  std::size_t sunk() const;

 private:
  struct State;
  State* state_;
  Port client_{-1};
};

struct Percentiles {
  double median_us, p99_us;
};
Percentiles percentiles(std::vector<double> samples_us);

}  // namespace vmodem::bench
