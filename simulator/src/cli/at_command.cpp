// vmodem at TARGET LINE... [--data FILE] [--until TEXT] [--timeout S]: AT
// commands from a shell or a CI script, answered as on a terminal.
//
// Each LINE is sent and its answer printed up to its final result code;
// after `CONNECT` or the `> ` prompt, --data FILE's bytes are sent (an
// upload with AT+QFUPL, AT+QISEND, AT+CMGS). --until waits, after the
// lines, for a line containing TEXT (a URC such as +QIND: "FOTA","END"),
// following the port across the module's resets.
//
// Exit codes: 0 every line answered OK (and --until seen), 1 an error
// result or a timeout, 2 usage, 3 the port or the file cannot be opened.
#include <array>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/at_client.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

struct AtArgs {
  std::string target;
  std::vector<std::string> lines;
  std::string data_file;
  std::string until;
  double timeout_s = 10;
};

enum class Final { none, ok, error, connect };

Final final_code(const std::string& line) {
  if (line == "OK") return Final::ok;
  if (line == "CONNECT" || line.starts_with("CONNECT ")) return Final::connect;
  constexpr std::array<const char*, 5> kErrors = {"ERROR", "NO CARRIER", "NO DIALTONE", "BUSY",
                                                  "NO ANSWER"};
  for (const char* error : kErrors) {
    if (line == error) return Final::error;
  }
  if (line.starts_with("+CME ERROR:") || line.starts_with("+CMS ERROR:")) return Final::error;
  return Final::none;
}

std::filesystem::path port_of(const std::string& target) {
  std::error_code ec;
  if (std::filesystem::is_directory(target, ec)) return std::filesystem::path(target) / "ttyUSB2";
  return target;
}

class Session {
 public:
  Session(const AtArgs& args, std::string data)
      : args_(args),
        data_(std::move(data)),
        client_(port_of(args.target)),
        timeout_(std::chrono::milliseconds(static_cast<std::int64_t>(args.timeout_s * 1000))) {}

  int run() {
    if (!client_.open(deadline())) return report_error(kExitIo, client_.error());
    for (const auto& line : args_.lines) {
      if (const int code = command(line); code != kExitOk) return code;
    }
    if (!args_.until.empty()) return wait_until();
    return kExitOk;
  }

 private:
  AtClient::Clock::time_point deadline() const { return AtClient::Clock::now() + timeout_; }

  // Sends `line`, prints its answer; the exit code its final result means.
  int command(const std::string& line) {
    const std::string sent = line + "\r";
    if (!client_.write(sent)) return report_error(kExitFailure, client_.error());
    bool data_sent = false;
    const auto until = deadline();
    for (;;) {
      auto answer = client_.next_line(until, false);
      if (!answer) return report_error(kExitFailure, line + ": " + client_.error());
      if (*answer == "> " || (final_code(*answer) == Final::connect && !data_.empty())) {
        if (*answer != "> ") std::cout << *answer << "\n" << std::flush;
        if (data_sent || data_.empty())
          return report_error(kExitUsage, line + " asks for data: give --data FILE");
        if (!client_.write(data_)) return report_error(kExitFailure, client_.error());
        data_sent = true;
        continue;
      }
      std::cout << *answer << "\n" << std::flush;
      switch (final_code(*answer)) {
        case Final::ok:
        case Final::connect:
          return kExitOk;
        case Final::error:
          return kExitFailure;
        case Final::none:
          break;
      }
    }
  }

  int wait_until() {
    const auto until = deadline();
    for (;;) {
      auto line = client_.next_line(until, true);
      if (!line) {
        return report_error(kExitFailure, "no line with '" + args_.until + "': " + client_.error());
      }
      std::cout << *line << "\n" << std::flush;
      if (line->find(args_.until) != std::string::npos) return kExitOk;
    }
  }

  const AtArgs& args_;
  std::string data_;
  AtClient client_;
  std::chrono::milliseconds timeout_;
};

int run_at(const AtArgs& args) {
  std::string data;
  if (!args.data_file.empty()) {
    std::ifstream in(args.data_file, std::ios::binary);
    if (!in) return report_error(kExitIo, "cannot read " + args.data_file);
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (args.lines.empty() && args.until.empty())
    return report_error(kExitUsage, "give AT command lines, --until TEXT, or both");
  return Session(args, std::move(data)).run();
}

}  // namespace

void add_at_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<AtArgs>();
  auto* cmd = app.add_subcommand(
      "at", "Send AT command lines to a running module and print the answers (exit 1 on ERROR)");
  cmd->add_option("TARGET", args->target,
                  "State directory (its AT port ttyUSB2) or a port (a PTY or its link)")
      ->required();
  cmd->add_option("LINE", args->lines, "AT command lines, sent one after the other");
  cmd->add_option("--data", args->data_file,
                  "Bytes to send after CONNECT or the '> ' prompt (AT+QFUPL, AT+QISEND, AT+CMGS)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--until", args->until,
                  "After the lines, wait for a line containing TEXT (a URC), across resets");
  cmd->add_option("--timeout", args->timeout_s, "Seconds to wait for each answer and for --until")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  commands.add(cmd, [args] { return run_at(*args); });
}

}  // namespace vmodem::cli
