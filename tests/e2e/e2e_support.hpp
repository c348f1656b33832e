// Test harness for end-to-end tests: a `vmodem run` daemon in a temporary
// state directory, a host end of its AT ports (opened like /dev/ttyUSB2),
// and the control socket through `vmodem ctl`.
#pragma once

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "temp_dir.hpp"

namespace vmodem::e2e {

// The vmodem binary under test: $VMODEM_BINARY when set (CI points the e2e
// suites at a build with ThreadSanitizer), else the one this build made.
std::string vmodem_binary();

// A JSON file the binary wrote (a report, --json output); discarded (not an
// exception) when it is not JSON, so the test's EXPECTs say what is wrong.
nlohmann::json read_json(const std::filesystem::path& path);

using namespace std::chrono_literals;

// `vmodem run` in its own state directory, killed at destruction.
class Daemon {
 public:
  explicit Daemon(std::vector<std::string> extra_args = {}, std::filesystem::path state = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void start();
  // SIGTERM and wait (orderly exit); returns the exit status.
  int stop();
  // SIGKILL: the process dies at once, as if the module lost power. With
  // `tidy_links` the harness then removes the port links itself (the daemon's
  // helper does it too, see LinkReaper; this keeps a test that restarts at
  // once from racing it).
  void kill_hard(bool tidy_links = true);
  bool running() const { return pid_ > 0; }
  const std::filesystem::path& state() const { return state_; }
  std::filesystem::path port(const std::string& name) const { return state_ / name; }
  std::string log() const;  // stdout+stderr of the daemon so far

  // `vmodem ctl --state <state> --json <args>`: the parsed return value, or
  // {"error": <exit code>, "output": ...} when the command failed.
  nlohmann::json ctl(const std::string& args) const;
  // Waits until status.power equals `state`.
  bool wait_power(const std::string& state, std::chrono::milliseconds timeout = 5000ms) const;
  // Polls until the boot has run to its end (status boot_complete: APP RDY
  // and the URCs after it, such as PB DONE, are out) or `timeout` passes.
  bool wait_booted(std::chrono::milliseconds timeout = 5000ms) const;
  // Polls `ctl status` until `holds` says yes (true) or `timeout` passes.
  bool wait_status(const std::function<bool(const nlohmann::json&)>& holds,
                   std::chrono::milliseconds timeout) const;

 private:
  vmodem::testing::TempDir dir_;
  std::filesystem::path state_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

// The host's end of a port: opens the stable link in raw mode.
class Host {
 public:
  // Waits for `link` to appear (up to `timeout`) and opens it.
  explicit Host(const std::filesystem::path& link, std::chrono::milliseconds timeout = 5000ms);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  bool is_open() const { return fd_ >= 0; }
  void write(const std::string& bytes);
  // Reads until `needle` has arrived (returns everything read, needle
  // included) or the timeout passes (returns what arrived).
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout = 3000ms);
  // Reads the boot's URCs through the last one a BG95-family module with a
  // ready SIM prints: APP RDY, then +QIND: PB DONE (after APP RDY, in fast
  // mode as on the module). Returns everything read, or what arrived by the
  // timeout. (A locked SIM sends no PB DONE: read_until("APP RDY\r\n").)
  std::string read_until_booted(std::chrono::milliseconds timeout = 3000ms);
  // Reads whatever arrives within `window`.
  std::string read_for(std::chrono::milliseconds window);
  // Sends `line` + CR and reads up to the final result code (OK, ERROR,
  // +CME ERROR: ..., or a numeric code in ATV0 mode).
  std::string command(const std::string& line, std::chrono::milliseconds timeout = 3000ms);
  // True when the port reports hang-up (EOF or EIO): the device went away.
  bool hung_up(std::chrono::milliseconds timeout = 2000ms);
  // Everything that arrives until the port hangs up (empty optional if it
  // has not within `timeout`).
  std::optional<std::string> read_until_hangup(std::chrono::milliseconds timeout = 5000ms);

 private:
  // Reads one chunk the port has before `end` into pending_; false at the
  // deadline or when the port is gone.
  bool fill(std::chrono::steady_clock::time_point end);
  std::string take(std::size_t count);  // the first `count` pending bytes

  int fd_ = -1;
  std::string pending_;  // read but not yet returned
};

// One control-socket connection: requests and the events of a subscription
// on the same line, so nothing the module says after power-on is missed.
class Control {
 public:
  explicit Control(const std::filesystem::path& socket);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends a request and returns its reply ({"error":"timeout"} when none
  // comes within `timeout`); events that arrive first are kept.
  nlohmann::json execute(const std::string& command,
                         nlohmann::json arguments = nlohmann::json::object(),
                         std::chrono::milliseconds timeout = 10000ms);
  // Collects events until one named `name` whose data matches `key`=`value`.
  bool wait_event(const std::string& name, const std::string& key, const nlohmann::json& value,
                  std::chrono::milliseconds timeout = 15000ms);
  std::vector<nlohmann::json> named(const std::string& name) const;

  std::vector<nlohmann::json> events;

 private:
  nlohmann::json next(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string buffer_;
};

// Adds to a bg95-m3 profile document a third file system, "data" (alias
// "appfs", FUSE mount "data"), in a partition of its own, "appdata", and
// without a backup: a user's profile as the module-composition tests use it.
void add_data_file_system(nlohmann::json& profile);

// XOR of the data as big-endian 16-bit words (the QFUPL/QFDWL checksum).
std::string quectel_checksum(const std::string& data);

// The numbers of the "+QPRTPARA: a,b,c" line in a response (empty if none).
std::vector<long> qprtpara_fields(const std::string& response);

// A file system's restore counters as the host reads them: the restore count
// and the ten probe-point counters.
struct RestoreCounters {
  long restores = 0;
  std::array<long, 10> probes{};
  bool operator==(const RestoreCounters&) const = default;
};
// From AT+QPRTPARA=4 (modem FS: backup_cnt, restore_cnt, page_cnt, p1..p10,
// ...) or =14 (AP FS: valid, backup_cnt, restore_cnt, p1..p10, ...); zeros
// when the answer is too short.
RestoreCounters modem_restore_counters(const std::string& response);
RestoreCounters ap_restore_counters(const std::string& response);
// From `ctl backup-info`'s return ({"restore_count", "probe_counts"}).
RestoreCounters restore_counters(const nlohmann::json& backup_info);

// Starts `args` (args[0] a path) with stdin from /dev/null and stdout and
// stderr appended to `log`, so a failing test can show what it printed.
// Returns the child's pid, or -1 if it could not be started.
pid_t spawn_logged(std::vector<std::string> args, const std::filesystem::path& log);

}  // namespace vmodem::e2e
