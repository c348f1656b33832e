// The SIM card in the module's slot: present or not, its PIN lock, the PIN
// and PUK retries left; and what its state changes do to the module (the
// +CPIN URCs, registration, the PDP contexts).
//
// The card as issued comes from the profile (Profile::sim, identity.iccid,
// identity.imsi); what the host changes on it (the lock, the PIN, retries)
// is kept in NV (SimNv) so that it survives power cycles, as on a card.
// Whether a card is in the slot belongs to the slot: it stays as the
// control socket left it (ctl sim-remove / sim-insert) across resets, until
// the process ends. Whether the PIN was entered lasts until the next boot.
//
// States, as AT+CPIN? reports them:
//   absent        no card                       +CME ERROR: 10
//   pin_required  lock on, PIN not yet entered  +CPIN: SIM PIN
//   puk_required  3 wrong PINs                  +CPIN: SIM PUK
//   blocked       10 wrong PUKs: the card is dead (+CME ERROR: 13, SIM failure)
//   ready         +CPIN: READY: registration and the SIM's files are open
//
// Every call comes from the module's io thread (handlers, control requests).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/simulator/module_services.hpp>
#include <vmodem/simulator/module_state.hpp>
#include <vmodem/simulator/profile.hpp>

#include "module/nv_settings.hpp"

namespace vmodem::sim {

enum class SimState { absent, pin_required, puk_required, blocked, ready };
std::string_view to_string(SimState state);  // "absent", "pin_required", ...

// nullopt: done; otherwise the +CME ERROR code the command answers.
using SimOutcome = std::optional<int>;

// CME codes (27.007 §9.2).
inline constexpr int kCmeNotAllowed = 3, kCmeSimNotInserted = 10, kCmeSimPinRequired = 11,
                     kCmeSimPukRequired = 12, kCmeSimFailure = 13, kCmeIncorrectPassword = 16;

class SimCard {
 public:
  struct Parts {
    const Profile& profile;  // sim, identity.iccid/imsi, network, boot URCs
    NvSettings& nv;          // SimNv
    RuntimeState& radio;     // sim_ready, registration URC modes, active contexts
    UrcSink& urcs;           // sent only while the module is on (RDY or later)
    const PowerControl& power;
    // A PDP context that went down because the SIM did (the module closes
    // its sockets with +QIURC: "pdpdeact").
    std::function<void(int cid)> context_lost;
  };
  explicit SimCard(Parts parts);

  // At each boot, once NV is loaded: the PIN is asked for again.
  void power_on();
  // The boot URC the profile lists, as this card makes it: "+CPIN: ..." as
  // the state is; the URCs of a ready SIM (+QUSIM, +QIND: SMS DONE / PB
  // DONE) only when it is ready (they follow the PIN later); others as they
  // are. nullopt: not sent.
  std::optional<std::string> boot_urc(const std::string& text) const;

  SimState state() const;
  bool pin_enabled() const;
  int pin_retries() const { return parts_.nv.values().sim.pin_retries; }
  int puk_retries() const { return parts_.nv.values().sim.puk_retries; }
  // Why a command that needs the card (needs_pin: its PIN entered as well)
  // is refused now: 10 absent, 13 blocked, 11 / 12 PIN / PUK required.
  SimOutcome refusal(bool needs_pin) const;

  // AT+CPIN=<pin> (PIN state) and AT+CPIN=<puk>,<newpin> (PUK state).
  // Arguments must be well-formed (is_pin / is_puk). A wrong one costs a
  // retry: 16, or 12 (PUK now required) / 13 (blocked) for the last.
  SimOutcome enter_pin(const std::string& candidate);
  SimOutcome enter_puk(const std::string& puk, const std::string& new_pin);
  // AT+CLCK="SC",<1|0>,<pin> and AT+CPWD="SC",<old>,<new>: the PIN checked
  // as by enter_pin.
  SimOutcome set_lock(bool enable, const std::string& candidate);
  SimOutcome change_pin(const std::string& old_pin, const std::string& new_pin);

  // The card leaves or enters the slot (control socket). `fresh`: a new card
  // as the profile issues it (lock, PIN, retries reset). False when nothing
  // changed (already out / already in and not fresh).
  bool remove();
  bool insert(bool fresh);

  // AT+QSIMSTAT=<enable>: +QSIMSTAT: <enable>,<inserted> URCs on insertion
  // and removal; until the next boot.
  int qsimstat() const { return qsimstat_; }
  void set_qsimstat(int enable) { qsimstat_ = enable; }
  bool inserted() const { return inserted_; }

  const SimConfig& config() const { return parts_.profile.sim; }
  const Identity& identity() const { return parts_.profile.identity; }

  static bool is_pin(const std::string& text);  // 4-8 digits
  static bool is_puk(const std::string& text);  // 8 digits

 private:
  const std::string& pin() const;
  // A PIN check that costs a retry when wrong; on the last, the card needs
  // its PUK. Returns the outcome of a wrong PIN, or nullopt if right.
  SimOutcome check_pin(const std::string& candidate);
  // After any change: the URCs, sim_ready, registration and contexts.
  void settle(SimState before);
  bool powered() const;  // RDY or later: URCs reach the host, NV is attached

  Parts parts_;
  bool inserted_ = true;
  bool verified_ = false;  // this boot's PIN entry
  int qsimstat_ = 0;
  bool fresh_pending_ = false;  // a new card inserted while off: its NV is reset at boot
};

}  // namespace vmodem::sim
