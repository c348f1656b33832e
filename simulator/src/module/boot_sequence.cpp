#include "module/boot_sequence.hpp"

#include <algorithm>

namespace vmodem::sim {

std::string_view to_string(BootStep step) {
  switch (step) {
    case BootStep::firmware:
      return "firmware";
    case BootStep::modem_fs:
      return "modem_fs";
    case BootStep::rdy:
      return "rdy";
    case BootStep::urc:
      return "urc";
    case BootStep::app_fs:
      return "app_fs";
    case BootStep::app_rdy:
      return "app_rdy";
  }
  return "unknown";
}

BootSequence::BootSequence(const BootConfig& boot, bool real_time)
    : boot_(boot), real_time_(real_time) {
  plan_.push_back({BootStep::firmware, {}, false, {}});
  plan_.push_back({BootStep::modem_fs, {}, false, {}});
  // Firmware that prints no APP RDY (UC20) is whole at RDY: its application
  // side mounts before it, and what needs that side answers from RDY on.
  if (!boot.app_rdy) plan_.push_back({BootStep::app_fs, {}, false, {}});
  plan_.push_back({BootStep::rdy, scaled(boot.rdy_after_ms), false, {}});
  if (!boot.app_rdy) plan_.push_back({BootStep::app_rdy, {}, true, {}});
  // Ordered by the profile's (real-time) delays, then scaled: fast mode
  // keeps real time's order even where scaling makes two delays equal
  // (PB DONE at 1.9 s comes after APP RDY at 1.5 s in both).
  std::vector<std::pair<std::uint32_t, Planned>> after_rdy;
  for (const auto& urc : boot.urcs_after_rdy)
    after_rdy.push_back({urc.after_ms, {BootStep::urc, scaled(urc.after_ms), true, urc.text}});
  if (boot.app_rdy) {
    const std::uint32_t at = boot.app_rdy_after_ms;
    after_rdy.push_back({at, {BootStep::app_fs, scaled(at), true, {}}});
    after_rdy.push_back({at, {BootStep::app_rdy, scaled(at), true, {}}});
  }
  // Stable: at equal delays the URCs (listed first) come before the mount.
  std::stable_sort(after_rdy.begin(), after_rdy.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [ms, planned] : after_rdy)
    plan_.push_back(std::move(planned));
}

std::chrono::milliseconds BootSequence::scaled(std::uint32_t ms) const {
  return std::chrono::milliseconds(real_time_ ? ms : ms / boot_.fast_mode_divisor);
}

void BootSequence::start(Time power_on) {
  at_ = 0;
  previous_done_ = power_on;
  rdy_done_ = power_on;
}

std::optional<BootAction> BootSequence::next() const {
  if (at_ >= plan_.size()) return std::nullopt;
  const Planned& planned = plan_[at_];
  const Time anchor = planned.after_rdy ? rdy_done_ : previous_done_;
  // Never before the step ahead of it has finished.
  return BootAction{planned.step, std::max(anchor + planned.after, previous_done_), planned.urc};
}

void BootSequence::done(Time now) {
  if (at_ >= plan_.size()) return;
  if (plan_[at_].step == BootStep::rdy) rdy_done_ = now;
  previous_done_ = now;
  ++at_;
}

}  // namespace vmodem::sim
