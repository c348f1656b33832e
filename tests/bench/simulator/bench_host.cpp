#include "bench_host.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace vmodem::bench {

Daemon::Daemon(const std::filesystem::path& state, std::vector<std::string> extra) : state_(state) {
  std::vector<std::string> args = {VMODEM_BINARY, "run", "--state",     state.string(),
                                   "--seed",      "1",   "--log-level", "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

Daemon::~Daemon() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

Port Port::open_link(const std::filesystem::path& link, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  int fd = -1;
  while (fd < 0 && Clock::now() < end) {
    fd = ::open(link.c_str(), O_RDWR | O_NOCTTY);
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (fd >= 0) {
    termios tio{};
    tcgetattr(fd, &tio);
    cfmakeraw(&tio);
    tcsetattr(fd, TCSANOW, &tio);
  }
  return Port(fd);
}

Port::~Port() {
  if (fd_ >= 0) ::close(fd_);
}

void Port::write_all(const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

bool Port::read_until(const std::string& needle, std::string& buffer,
                      std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  char chunk[65536];
  while (buffer.find(needle) == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

Control::Control(const std::filesystem::path& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  for (int i = 0; i < 500; ++i) {
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      (void)read_line(std::chrono::milliseconds(2000));  // greeting
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::close(fd_);
  fd_ = -1;
}

Control::~Control() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Control::read_line(std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (pending_.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0 || fd_ < 0) return {};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) return {};
    pending_.append(chunk, static_cast<std::size_t>(n));
  }
  const auto at = pending_.find('\n');
  std::string line = pending_.substr(0, at);
  pending_.erase(0, at + 1);
  return line;
}

nlohmann::json Control::call(const std::string& command, const nlohmann::json& arguments) {
  const std::string line =
      nlohmann::json{{"execute", command}, {"arguments", arguments}}.dump() + "\n";
  if (::write(fd_, line.data(), line.size()) < 0) return nullptr;
  while (true) {
    const auto reply =
        nlohmann::json::parse(read_line(std::chrono::milliseconds(10000)), nullptr, false);
    if (reply.is_discarded()) return nullptr;
    if (!reply.contains("event")) return reply;  // events interleave: skip them
  }
}

bool Control::wait_power_event(const std::string& state, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    const auto event =
        nlohmann::json::parse(read_line(std::chrono::milliseconds(100)), nullptr, false);
    if (event.is_discarded()) continue;
    if (event.value("event", "") == "POWER_STATE" && event["data"].value("state", "") == state)
      return true;
  }
  return false;
}

struct FloorPty::State {
  int master = -1;
  Mode mode;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> sunk{0};
  std::thread thread;
};

FloorPty::FloorPty(Mode mode) : state_(new State) {
  int master = -1, slave = -1;
  ::openpty(&master, &slave, nullptr, nullptr, nullptr);
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  state_->master = master;
  state_->mode = mode;
  client_ = Port(slave);
  state_->thread = std::thread([s = state_] {
    char chunk[65536];
    static const char ok[] = "\r\nOK\r\n";
    std::string line;          // upload mode: the command line so far
    std::size_t expected = 0;  // upload mode: data bytes still to come
    std::size_t size = 0;
    while (!s->stop) {
      pollfd p{s->master, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(s->master, chunk, sizeof chunk);
      if (n <= 0) break;
      s->sunk += static_cast<std::size_t>(n);
      if (s->mode == Mode::echo_ok && std::memchr(chunk, '\r', static_cast<std::size_t>(n))) {
        (void)::write(s->master, ok, sizeof ok - 1);
      }
      if (s->mode != Mode::upload) continue;
      for (ssize_t i = 0; i < n; ++i) {
        if (expected > 0) {
          const auto take = std::min(expected, static_cast<std::size_t>(n - i));
          expected -= take;
          i += static_cast<ssize_t>(take) - 1;
          if (expected == 0) {
            const std::string done = "\r\n+QFUPL: " + std::to_string(size) + ",0\r\n\r\nOK\r\n";
            (void)::write(s->master, done.data(), done.size());
          }
          continue;
        }
        if (chunk[i] != '\r') {
          line += chunk[i];
          continue;
        }
        // "AT+QFUPL=\"name\",<size>,...": the number after the first comma.
        const auto comma = line.find(',');
        size =
            comma == std::string::npos ? 0 : std::strtoull(line.c_str() + comma + 1, nullptr, 10);
        expected = size;
        line.clear();
        static const char connect[] = "\r\nCONNECT\r\n";
        (void)::write(s->master, connect, sizeof connect - 1);
      }
    }
  });
}

FloorPty::~FloorPty() {
  state_->stop = true;
  state_->thread.join();
  ::close(state_->master);
  delete state_;
}

std::size_t FloorPty::sunk() const {
  return state_->sunk;
}

Percentiles percentiles(std::vector<double> samples) {
  if (samples.empty()) return {0, 0};
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2],
          samples[std::min(samples.size() - 1, samples.size() * 99 / 100)]};
}

}  // namespace vmodem::bench
