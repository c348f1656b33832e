// The module's power-on as a sequence of steps, each with the time it is due
// — no clock and no Asio inside: the Module asks what is next, runs it when
// its timer says so and reports the time it finished; a test steps it with
// times of its own choosing.
//
//   firmware check (a staged update takes over here)
//   → the modem file system (its guardians; NV settings)
//   → RDY, rdy_after_ms after the mount finished
//   → the profile's URCs, each after_ms after RDY, and the other file
//     systems then APP RDY, app_rdy_after_ms after RDY (in the order they
//     fall due; a URC due at the same time goes first)
//
// Delays are the profile's "boot" section, divided by fast_mode_divisor
// unless the module runs in real time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

enum class BootStep : std::uint8_t {
  firmware,  // read the firmware; run a staged update
  modem_fs,  // mount the modem file system through the guardians
  rdy,       // the ports answer; "RDY"
  urc,       // one of the profile's URCs after RDY
  app_fs,    // mount the other file systems through the guardians
  app_rdy,   // "APP RDY" (when the firmware prints it)
};
std::string_view to_string(BootStep step);

struct BootAction {
  BootStep step;
  std::chrono::steady_clock::time_point due;
  std::string urc;  // BootStep::urc: its text
};

class BootSequence {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // `real_time`: the profile's delays as they are; else divided by its
  // fast_mode_divisor.
  BootSequence(const BootConfig& boot, bool real_time);

  // A new boot, powered on at `power_on`.
  void start(Time power_on);
  // The next step and when it is due; nullopt when the boot is over.
  std::optional<BootAction> next() const;
  // The step next() gave has finished at `now`: RDY's delay counts from the
  // modem file system's mount, the later steps' from RDY.
  void done(Time now);

 private:
  struct Planned {
    BootStep step;
    std::chrono::milliseconds after;  // after the anchor below
    bool after_rdy;                   // anchor: RDY (else the previous step)
    std::string urc;
  };
  std::chrono::milliseconds scaled(std::uint32_t ms) const;

  const BootConfig& boot_;
  bool real_time_;
  std::vector<Planned> plan_;
  std::size_t at_ = 0;
  Time previous_done_{}, rdy_done_{};
};

}  // namespace vmodem::sim
