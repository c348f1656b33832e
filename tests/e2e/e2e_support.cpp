#include "e2e_support.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "process.hpp"

extern char** environ;

namespace vmodem::e2e {

std::string vmodem_binary() {
  const char* chosen = std::getenv("VMODEM_BINARY");
  return chosen && *chosen ? chosen : VMODEM_BINARY;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

Daemon::Daemon(std::vector<std::string> extra_args, std::filesystem::path state)
    : state_(state.empty() ? dir_.path() / "state" : std::move(state)),
      extra_args_(std::move(extra_args)) {
  start();
}

Daemon::~Daemon() {
  if (pid_ > 0) kill_hard();
  // The daemon runs built with the tests' sanitizers: what they found in
  // it (a data race between its threads, a bad access) fails the test.
  const std::string text = log();
  for (const char* finding :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "runtime error:"}) {
    if (const auto at = text.find(finding); at != std::string::npos) {
      ADD_FAILURE() << "the vmodem daemon reported: " << text.substr(at, 16000);
      break;
    }
  }
}

void Daemon::start() {
  std::vector<std::string> args = {vmodem_binary(), "run",    "--state",
                                   state_.string(), "--seed", "11"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = spawn_logged(std::move(args), dir_.path() / "daemon.out");
}

int Daemon::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void Daemon::kill_hard(bool tidy_links) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (!tidy_links) return;
  // A killed daemon cannot take its port links away, as a module's USB
  // nodes vanish with its power. A stale link names a pty the kernel hands
  // out again, possibly to another test's daemon: a Host opened before the
  // next daemon replaced the link would talk to that one. Remove them.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_, ec)) {
    if (entry.is_symlink(ec) && entry.path().filename().string().rfind("tty", 0) == 0)
      std::filesystem::remove(entry.path(), ec);
  }
}

std::string Daemon::log() const {
  std::ifstream in(dir_.path() / "daemon.out");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json Daemon::ctl(const std::string& args) const {
  const std::string command =
      vmodem_binary() + " ctl --state " + state_.string() + " --json " + args + " 2>&1";
  const auto [code, out] = vmodem::testing::run_shell(command);
  if (code != 0) return {{"error", code}, {"output", out}};
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json{{"error", -2}, {"output", out}} : parsed;
}

bool Daemon::wait_status(const std::function<bool(const nlohmann::json&)>& holds,
                         std::chrono::milliseconds timeout) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (holds(ctl("status"))) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

bool Daemon::wait_power(const std::string& state, std::chrono::milliseconds timeout) const {
  return wait_status(
      [&](const nlohmann::json& status) {
        return status.contains("power") && status["power"] == state;
      },
      timeout);
}

bool Daemon::wait_booted(std::chrono::milliseconds timeout) const {
  return wait_status(
      [](const nlohmann::json& status) { return status.value("boot_complete", false); }, timeout);
}

Host::Host(const std::filesystem::path& link, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    fd_ = ::open(link.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd_ >= 0) break;
    std::this_thread::sleep_for(2ms);
  }
  if (fd_ < 0) return;
  termios tio{};
  tcgetattr(fd_, &tio);
  cfmakeraw(&tio);
  tcsetattr(fd_, TCSANOW, &tio);  // no flush: what the module said before we looked is kept
}

Host::~Host() {
  if (fd_ >= 0) ::close(fd_);
}

void Host::write(const std::string& bytes) {
  std::size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      return;
    }
  }
}

bool Host::fill(std::chrono::steady_clock::time_point end) {
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  return false;
}

std::string Host::take(std::size_t count) {
  std::string out = pending_.substr(0, count);
  pending_.erase(0, count);
  return out;
}

std::string Host::read_until_booted(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  std::string seen = read_until("APP RDY\r\n", timeout);
  if (seen.find("APP RDY\r\n") == std::string::npos) return seen;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  return seen + read_until("+QIND: PB DONE\r\n", std::max(left, 0ms));
}

std::string Host::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto at = pending_.find(needle);
    if (at != std::string::npos) return take(at + needle.size());
    if (!fill(end)) return take(pending_.size());
  }
}

std::string Host::read_for(std::chrono::milliseconds window) {
  return read_until(std::string(1, '\0') + "never", window);
}

namespace {

// Where the first final result code in `text` ends (after its CR LF), or
// npos while none has arrived whole. What comes after it (a URC) is left
// for the next read.
std::size_t final_result_end(const std::string& text) {
  std::size_t best = std::string::npos;
  // SEND OK / SEND FAIL: the final results of Quectel's AT+QISEND family;
  // NO CARRIER: ATO with nothing to resume.
  for (const char* final : {"\r\nOK\r\n", "\r\nERROR\r\n", "+CME ERROR:", "\r\nSEND OK\r\n",
                            "\r\nSEND FAIL\r\n", "\r\nNO CARRIER\r\n"}) {
    const auto at = text.find(final);
    if (at == std::string::npos) continue;
    const auto eol = text.find("\r\n", at + 2);
    if (eol != std::string::npos) best = std::min(best, eol + 2);
  }
  return best;
}

}  // namespace

std::string Host::command(const std::string& line, std::chrono::milliseconds timeout) {
  write(line + "\r");
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto done = final_result_end(pending_); done != std::string::npos) return take(done);
    // ATV0: a numeric result code ends with CR alone. A CR in the middle of
    // a verbose line's CR LF would look the same, so the next byte is given
    // a moment to show which it is — a bounded wait, not the full timeout.
    if (pending_.ends_with("0\r") || pending_.ends_with("4\r")) {
      const auto grace = std::min(end, std::chrono::steady_clock::now() + 50ms);
      if (!fill(grace)) return take(pending_.size());
      continue;
    }
    if (!fill(end)) return take(pending_.size());
  }
}

bool Host::hung_up(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, 50);
    char c;
    const ssize_t n = ::read(fd_, &c, 1);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
    if (p.revents & (POLLHUP | POLLERR)) return true;
  }
  return false;
}

std::optional<std::string> Host::read_until_hangup(std::chrono::milliseconds timeout) {
  std::string got = std::exchange(pending_, {});
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, 50);
    char buffer[256];
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
    if (n == 0 || (n < 0 && errno != EAGAIN)) return got;
  }
  return std::nullopt;
}

Control::Control(const std::filesystem::path& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  (void)next(2000ms);  // the greeting
}

Control::~Control() {
  if (fd_ >= 0) ::close(fd_);
}

nlohmann::json Control::execute(const std::string& command, nlohmann::json arguments,
                                std::chrono::milliseconds timeout) {
  const std::string line =
      nlohmann::json{{"execute", command}, {"arguments", arguments}}.dump() + "\n";
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return {};
  for (;;) {
    auto message = next(timeout);
    if (message.is_null()) return {{"error", "timeout"}};
    if (message.contains("event")) {
      events.push_back(message);
      continue;
    }
    return message;
  }
}

bool Control::wait_event(const std::string& name, const std::string& key,
                         const nlohmann::json& value, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (const auto& e : events) {
    if (e["event"] == name && e["data"].value(key, nlohmann::json()) == value) return true;
  }
  while (std::chrono::steady_clock::now() < end) {
    auto message = next(std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now()));
    if (message.is_null()) return false;
    if (!message.contains("event")) continue;
    events.push_back(message);
    if (message["event"] == name && message["data"].value(key, nlohmann::json()) == value)
      return true;
  }
  return false;
}

std::vector<nlohmann::json> Control::named(const std::string& name) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e["event"] == name) out.push_back(e);
  }
  return out;
}

nlohmann::json Control::next(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      const std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (!parsed.is_discarded()) return parsed;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0) return {};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) return {};
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string quectel_checksum(const std::string& data) {
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const auto hi = static_cast<std::uint8_t>(data[i]);
    const auto lo = i + 1 < data.size() ? static_cast<std::uint8_t>(data[i + 1]) : 0;
    sum ^= static_cast<std::uint16_t>(hi << 8 | lo);
  }
  char text[8];
  std::snprintf(text, sizeof text, "%x", sum);
  return text;
}

std::vector<long> qprtpara_fields(const std::string& response) {
  const auto at = response.find("+QPRTPARA: ");
  if (at == std::string::npos) return {};
  std::istringstream in(response.substr(at + 11, response.find('\r', at) - at - 11));
  std::vector<long> out;
  for (std::string item; std::getline(in, item, ',');)
    out.push_back(std::stol(item));
  return out;
}

namespace {
// `size`: how many fields the answer has.
RestoreCounters counters_at(const std::vector<long>& fields, std::size_t size, std::size_t restores,
                            std::size_t first_probe) {
  RestoreCounters c;
  if (fields.size() < size) return c;
  c.restores = fields[restores];
  std::copy_n(fields.begin() + static_cast<std::ptrdiff_t>(first_probe), 10, c.probes.begin());
  return c;
}
}  // namespace

void add_data_file_system(nlohmann::json& profile) {
  profile["partitions"].push_back(
      {{"name", "appdata"}, {"first_block", 350}, {"blocks", 24}, {"description", "app data"}});
  profile["file_systems"].push_back({{"name", "data"},
                                     {"partition", "appdata"},
                                     {"role", "data"},
                                     {"mount", "data"},
                                     {"alias", "appfs"}});
}

RestoreCounters modem_restore_counters(const std::string& response) {
  return counters_at(qprtpara_fields(response), 14, 1, 3);
}
RestoreCounters ap_restore_counters(const std::string& response) {
  return counters_at(qprtpara_fields(response), 19, 2, 3);
}
RestoreCounters restore_counters(const nlohmann::json& backup_info) {
  RestoreCounters c;
  if (!backup_info.contains("restore_count")) return c;
  c.restores = backup_info["restore_count"].get<long>();
  for (std::size_t i = 0; i < 10; ++i)
    c.probes[i] = backup_info["probe_counts"][i].get<long>();
  return c;
}

pid_t spawn_logged(std::vector<std::string> args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = log.string();
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace vmodem::e2e
