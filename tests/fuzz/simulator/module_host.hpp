// An in-process host for fuzzing the running module: one Module (RAM flash,
// fast mode) on an io_context this thread polls, driven through at::Engines
// over the module's own command registry (Module::registry()) with a fake
// clock, and through its control target. No PTY, no socket, no sleep.
//
// Each input starts from the same baseline: the flash rolled back (COW
// snapshot) to the manufactured image taken once at start-up, the fault
// injector's count, rules and seed reset, the module powered on and booted to
// APP RDY. So any input replays alone, whatever ran before it.
//
// What a PTY port does for the module is played here, with the module's own
// functions: a port answers only while the module is up (input is dropped
// otherwise), is reset when the module goes off, takes its AT&W settings at
// RDY, and gets the URCs the module sends to it (the URC events name the
// port).
//
// Sandbox: control requests that name host paths (snapshot-save,
// snapshot-load) are redirected into a private temporary directory; FOTA
// downloads (AT+QFOTADL="FTP://..."/"HTTP://...") cannot reach a network
// because the process moves into a network namespace of its own at start-up
// (see sandbox_network()), and their timeout is shortened.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include <vmodem/at/engine.hpp>
#include <vmodem/simulator/module.hpp>

#include "control/replies.hpp"

namespace vmodem::sim::fuzzing {

class SandboxTarget;

class ModuleHost {
 public:
  // The process-wide host (made on first use: manufactures the flash, boots
  // once, takes the baseline). Aborts with a message if that fails.
  static ModuleHost& instance();
  ~ModuleHost();

  // Back to the baseline and booted to APP RDY, the AT port selected.
  void begin_input();
  // A power cut (nothing more is written), the engines emptied, the
  // io_context drained.
  void end_input();

  // Bytes from the host on the selected port. Fed until the engine took them
  // all, a bounded number of rounds (a command that never answers, a stalled
  // reader) after which the rest is dropped, or the port went away.
  void host_write(std::string_view bytes);
  // Selects the port host_write() writes to: 0 at (ttyUSB2), 1 modem
  // (ttyUSB3), 2 uart (ttyS0).
  void select_port(unsigned index);
  // Lets the fake clock run (data-mode timeouts, upload padding grace).
  void advance(std::chrono::milliseconds step);
  // Toggles a host that stops reading its port (the output bound, flow
  // control); writing again resumes reading.
  void toggle_stalled_reader();

  // One control-protocol line, answered as a control connection does
  // (session commands included). Returns the reply line ("" for a blank
  // line); aborts if the reply is not exactly one line of JSON with "return"
  // or "error".
  std::string control(std::string_view line);

  // Runs the module (its io_context: timers due, posted work) and the
  // engines (output read, data-mode deadlines) until nothing is due. Call it
  // after acting on module() directly.
  void settle();

  Module& module() { return *module_; }

 private:
  ModuleHost();
  void build();
  void pump_engine(const std::string& port);
  void on_event(const nlohmann::json& event);
  void restore_baseline_image();
  // Issues a control request and runs the io_context until its reply came
  // (at once for most, from the file-I/O thread for snapshots).
  control::JsonResult await_reply(const std::function<void(control::JsonReply)>& request);

  std::filesystem::path dir_;  // private: state dir (port links), snapshots
  boost::asio::io_context io_;
  std::unique_ptr<Module> module_;
  std::unique_ptr<SandboxTarget> target_;
  std::map<std::string, std::unique_ptr<at::Engine>> engines_;  // "at", "modem", "uart"
  std::string port_ = "at";
  bool live_ = false;  // the ports answer (the module is up)
  bool stalled_ = false;
  bool subscribed_ = false;  // a control "subscribe" is in force
  bool trace_ = false;       // VMODEM_FUZZ_TRACE: port output to stderr
  at::Clock::time_point now_{};
};

// Moves the process into a network namespace of its own (no interface up:
// every connect and DNS lookup fails at once), as root or through a user
// namespace. Must run while the process has one thread. Returns false (and
// the caller warns) where neither is allowed.
bool sandbox_network();

// LLVMFuzzerInitialize of a module fuzzer: the network sandbox (a warning
// naming `target` where it is refused), then the host, made once.
void initialize_fuzzer(const char* target);

}  // namespace vmodem::sim::fuzzing
