#include "commands/sim_card.hpp"

#include <utility>

#include "commands/registration.hpp"

namespace vmodem::sim {

namespace {

bool digits(const std::string& text, std::size_t min, std::size_t max) {
  return text.size() >= min && text.size() <= max &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// The boot URCs that come only once the SIM is ready (after its PIN): the
// card type, and the SMS and phonebook initialisation.
bool needs_ready_sim(const std::string& text) {
  return text.starts_with("+QUSIM:") || text == "+QIND: SMS DONE" || text == "+QIND: PB DONE";
}

std::optional<std::string> cpin_urc(SimState state) {
  switch (state) {
    case SimState::absent:
      return "+CPIN: NOT READY";
    case SimState::pin_required:
      return "+CPIN: SIM PIN";
    case SimState::puk_required:
      return "+CPIN: SIM PUK";
    case SimState::ready:
      return "+CPIN: READY";
    case SimState::blocked:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(SimState state) {
  switch (state) {
    case SimState::absent:
      return "absent";
    case SimState::pin_required:
      return "pin_required";
    case SimState::puk_required:
      return "puk_required";
    case SimState::blocked:
      return "blocked";
    case SimState::ready:
      return "ready";
  }
  return "unknown";
}

SimCard::SimCard(Parts parts) : parts_(std::move(parts)) {}

bool SimCard::is_pin(const std::string& text) {
  return digits(text, 4, 8);
}

bool SimCard::is_puk(const std::string& text) {
  return digits(text, 8, 8);
}

void SimCard::power_on() {
  if (std::exchange(fresh_pending_, false)) parts_.nv.update([](NvValues& v) { v.sim = SimNv{}; });
  verified_ = false;
  qsimstat_ = 0;
  parts_.radio.sim_ready = state() == SimState::ready;
}

std::optional<std::string> SimCard::boot_urc(const std::string& text) const {
  if (text.starts_with("+CPIN:")) return cpin_urc(state());
  if (needs_ready_sim(text) && state() != SimState::ready) return std::nullopt;
  return text;
}

SimState SimCard::state() const {
  if (!inserted_) return SimState::absent;
  const SimNv& nv = parts_.nv.values().sim;
  if (nv.puk_retries == 0) return SimState::blocked;
  if (nv.pin_retries == 0) return SimState::puk_required;
  if (pin_enabled() && !verified_) return SimState::pin_required;
  return SimState::ready;
}

bool SimCard::pin_enabled() const {
  return parts_.nv.values().sim.pin_enabled.value_or(config().pin_enabled);
}

const std::string& SimCard::pin() const {
  const auto& changed = parts_.nv.values().sim.pin;
  return changed ? *changed : config().pin;
}

SimOutcome SimCard::refusal(bool needs_pin) const {
  switch (state()) {
    case SimState::absent:
      return kCmeSimNotInserted;
    case SimState::blocked:
      return kCmeSimFailure;
    case SimState::pin_required:
      return needs_pin ? SimOutcome(kCmeSimPinRequired) : std::nullopt;
    case SimState::puk_required:
      return needs_pin ? SimOutcome(kCmeSimPukRequired) : std::nullopt;
    case SimState::ready:
      break;
  }
  return std::nullopt;
}

SimOutcome SimCard::check_pin(const std::string& candidate) {
  if (candidate == pin()) {
    // A right PIN gives the card its retries back.
    if (pin_retries() != kSimPinRetries)
      parts_.nv.update([](NvValues& v) { v.sim.pin_retries = kSimPinRetries; });
    return std::nullopt;
  }
  parts_.nv.update([](NvValues& v) { --v.sim.pin_retries; });
  return pin_retries() == 0 ? kCmeSimPukRequired : kCmeIncorrectPassword;
}

SimOutcome SimCard::enter_pin(const std::string& candidate) {
  const SimState before = state();
  if (before == SimState::ready) return kCmeNotAllowed;  // no PIN is asked for
  if (before != SimState::pin_required) return refusal(true);
  if (auto wrong = check_pin(candidate)) {
    settle(before);
    return wrong;
  }
  verified_ = true;
  settle(before);
  return std::nullopt;
}

SimOutcome SimCard::enter_puk(const std::string& puk, const std::string& new_pin) {
  const SimState before = state();
  if (before == SimState::ready || before == SimState::pin_required) return kCmeNotAllowed;
  if (before != SimState::puk_required) return refusal(true);
  if (puk != config().puk) {
    parts_.nv.update([](NvValues& v) { --v.sim.puk_retries; });
    settle(before);
    return puk_retries() == 0 ? kCmeSimFailure : kCmeIncorrectPassword;
  }
  parts_.nv.update([&new_pin](NvValues& v) {
    v.sim.pin = new_pin;
    v.sim.pin_retries = kSimPinRetries;
    v.sim.puk_retries = kSimPukRetries;
  });
  verified_ = true;
  settle(before);
  return std::nullopt;
}

SimOutcome SimCard::set_lock(bool enable, const std::string& candidate) {
  const SimState before = state();
  if (auto refused = refusal(true)) return refused;
  if (auto wrong = check_pin(candidate)) {
    settle(before);
    return wrong;
  }
  if (pin_enabled() != enable)
    parts_.nv.update([enable](NvValues& v) { v.sim.pin_enabled = enable; });
  verified_ = true;  // the PIN was just given
  return std::nullopt;
}

SimOutcome SimCard::change_pin(const std::string& old_pin, const std::string& new_pin) {
  const SimState before = state();
  if (auto refused = refusal(true)) return refused;
  if (!pin_enabled()) return kCmeNotAllowed;  // a disabled PIN cannot be changed
  if (auto wrong = check_pin(old_pin)) {
    settle(before);
    return wrong;
  }
  parts_.nv.update([&new_pin](NvValues& v) { v.sim.pin = new_pin; });
  return std::nullopt;
}

bool SimCard::remove() {
  if (!inserted_) return false;
  const SimState before = state();
  inserted_ = false;
  verified_ = false;
  settle(before);
  return true;
}

bool SimCard::insert(bool fresh) {
  if (inserted_) {
    if (!fresh) return false;
    (void)remove();  // a new card: the old one comes out first
  }
  const SimState before = state();
  if (fresh) {
    parts_.nv.update([](NvValues& v) { v.sim = SimNv{}; });
    // While off, NV is not there to keep it: the next boot writes it.
    fresh_pending_ = !powered();
  }
  inserted_ = true;
  verified_ = false;
  settle(before);
  return true;
}

bool SimCard::powered() const {
  const PowerState power = parts_.power.power_state();
  return power == PowerState::rdy || power == PowerState::app_rdy;
}

void SimCard::settle(SimState before) {
  const SimState after = state();
  RuntimeState& radio = parts_.radio;
  const bool was_registered = radio.registered();
  radio.sim_ready = after == SimState::ready;
  if (after == before || !powered()) return;
  UrcSink& urcs = parts_.urcs;
  const bool out = after == SimState::absent;
  if (qsimstat_ == 1 && out != (before == SimState::absent))
    urcs.send_urc(std::string("+QSIMSTAT: 1,") + (out ? "0" : "1"));
  if (const auto line = cpin_urc(after)) urcs.send_urc(*line);
  if (after == SimState::ready) {
    for (const auto& urc : parts_.profile.boot.urcs_after_rdy) {
      if (needs_ready_sim(urc.text)) urcs.send_urc(urc.text);
    }
  }
  // Registration follows the SIM while the radio is on; a lost one takes the
  // PDP contexts with it.
  settle_registration(was_registered, parts_.profile.network, radio, urcs, parts_.context_lost);
}

}  // namespace vmodem::sim
