// One module in this process for a campaign: RAM flash, no PTY, fast mode
// with every boot delay zero, its io_context polled on the caller's thread,
// and an at::Engine of the driver's own over the module's command registry
// (as the module fuzzer's host does, tests/fuzz/simulator/module_host.hpp).
// A run is deterministic: no thread but the caller's touches the module (a
// snapshot load is waited for), and every seed comes from the scenario's.
//
// Branching (nand::campaign::run_branched): the module's flash is
// single-threaded (Flash::Threads::one) and shared with a second module,
// the driver's verifier(), which boots on it while this module's run is
// suspended inside a NAND operation, and is judged as this module would be
// after the same cut in a replay.
//
// What a run says and hears is appended to a transcript: "> " lines sent,
// "< " lines answered, "urc: " lines, "-- " notes (power, cuts, boot).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/at/engine.hpp>
#include <vmodem/simulator/control_server.hpp>
#include <vmodem/simulator/module.hpp>

#include "campaign/scenario.hpp"

namespace vmodem::sim::campaign {

using Transcript = std::vector<std::string>;

// How one step ended.
struct StepResult {
  enum class Kind : std::uint8_t {
    ok,          // answered, and the answer held `expect` (or the URC came)
    mismatch,    // answered without the expected line
    timeout,     // no final result (or no URC) within the step's timeout
    power_lost,  // the power went during the step
  };
  Kind kind = Kind::ok;
  std::string answer;  // the lines answered (CR LF framing dropped)
  bool ok() const { return kind == Kind::ok; }
  std::string describe(const AtStep& step) const;
};

// What the module said while booting.
struct BootReport {
  bool complete = false;            // every boot step ran (APP RDY, or RDY on UC20)
  std::vector<std::string> events;  // RESTORE / FS_REBUILT / BOOT_FAILED, as one line each
  std::vector<nlohmann::json> restores, rebuilds;  // their data
};

class ModuleDriver {
 public:
  // Manufactures `profile`'s module in RAM (seeded by `seed`), boots it
  // once, powers it off; with `image` set, then loads that NAND image. With
  // `state_dir` (an existing directory), the module also serves its ports
  // as PTYs linked there (ttyUSB2 the AT port) and its control socket
  // (control.sock), for host steps.
  static tl::expected<std::unique_ptr<ModuleDriver>, std::string> create(
      Profile profile, std::uint64_t seed, const std::filesystem::path& image,
      const std::filesystem::path& state_dir = {});
  ~ModuleDriver();
  ModuleDriver(const ModuleDriver&) = delete;
  ModuleDriver& operator=(const ModuleDriver&) = delete;

  // Power on and run until the boot completes or stops.
  BootReport power_on(Transcript& transcript);
  // Orderly power-off (the file systems synced).
  void power_off();
  // Power cut now (nothing more is written), if the module is on.
  void cut();
  // Runs one step on the port (a fresh port after each power-on, echo off).
  StepResult run(const AtStep& step, Transcript& transcript);

  // The flash kept as it is now (module off): what rewind() comes back to.
  void keep_baseline();
  // Back to the kept flash, the injector's count, rules and seeds and the
  // chip's generator as they were (module off).
  void rewind();
  // The flash written to `path` (a NAND image `vmodem run` boots).
  tl::expected<void, std::string> save_image(const std::filesystem::path& path);

  // Makes the second module over this driver's flash (not powered), once:
  // it verifies a cut branched off this module's run. Its boot events,
  // cuts and transcript are its own; the caller hands the flash's fault
  // listener back and forth (hear_faults()).
  tl::expected<void, std::string> add_verifier();
  // After add_verifier().
  ModuleDriver& verifier() { return *verifier_; }
  // This driver's module hears the flash's faults from now on (the next cut
  // is its NAND_FAULT), and the notes of its events go to `transcript`.
  void hear_faults(Transcript& transcript);

  // The caller was away from the run for `d` (a branch verified a cut
  // inside one of its NAND operations): the steps' timeouts do not count it.
  void away(std::chrono::steady_clock::duration d) { away_ += d; }

  bool power_lost() const { return module_->power_lost(); }
  Module& module() { return *module_; }
  nand::FaultInjector& injector() { return module_->flash().lock().faults(); }
  // The last power cut that struck (NAND_FAULT), if any since the rewind.
  const std::optional<nlohmann::json>& last_fault() const { return fault_; }

 private:
  ModuleDriver(Profile profile, std::uint64_t seed) : profile_(std::move(profile)), seed_(seed) {}
  // The module over `flash`, with the driver's profile, seed and options.
  tl::expected<void, std::string> make_module(std::shared_ptr<Flash> flash, bool factory_booted);
  void on_event(const nlohmann::json& event);
  // Runs the io_context until nothing is ready (timers due, posted work).
  void settle();
  // settle(), then waits up to 1 ms of real time for one more handler
  // (a timer with a delay, work posted from another thread).
  void wait_a_little();
  StepResult run_command(const AtStep& step, Transcript& transcript);
  StepResult wait_urc(const AtStep& step, Transcript& transcript);
  StepResult run_host(const AtStep& step, Transcript& transcript);
  void new_engine();
  // The steady clock less the time the caller was away (away()).
  std::chrono::steady_clock::time_point now() const {
    return std::chrono::steady_clock::now() - away_;
  }

  Profile profile_;                  // fast mode
  std::filesystem::path state_dir_;  // ports and control socket (host steps)
  std::unique_ptr<ControlServer> control_;
  std::uint64_t seed_;
  boost::asio::io_context io_;
  std::unique_ptr<Module> module_;
  std::unique_ptr<at::Engine> engine_;
  std::vector<std::string> urcs_;  // since the last power-on, not yet waited for
  Transcript* transcript_ = nullptr;
  BootReport* boot_ = nullptr;
  std::optional<nlohmann::json> fault_;
  std::chrono::steady_clock::duration away_{};
  // Declared last: destroyed (powered off) before this driver's module.
  std::unique_ptr<ModuleDriver> verifier_;
};

}  // namespace vmodem::sim::campaign
