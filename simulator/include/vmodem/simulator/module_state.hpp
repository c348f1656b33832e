// The module's state as the command groups and the control socket see it:
// the power state machine's states and what the radio knows until the next
// boot.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace vmodem::sim {

// OFF --power_on--> BOOTING --> RDY --> APP_RDY (module.hpp).
enum class PowerState { off, booting, rdy, app_rdy };
std::string_view to_string(PowerState state);

// What the module knows only until the next boot (not saved in NV).
struct RuntimeState {
  int cfun = 1;                              // AT+CFUN functionality level
  int creg_n = 0, cgreg_n = 0, cereg_n = 0;  // registration URC modes
  int cops_format = 0;                       // AT+COPS=3,<format>
  int ctzr = 0;
  std::set<int> active_contexts;  // PDP contexts activated (AT+QIACT / AT+CGACT)
  // AT+QIDNSCFG: primary and secondary DNS server per context, where set.
  std::map<int, std::pair<std::string, std::string>> dns_servers;
  std::chrono::system_clock::duration clock_offset{0};  // AT+CCLK: set time minus the host's
  std::array<int, 2> ifc{0, 0};                         // AT+IFC flow control
  std::array<int, 2> cgerep{0, 0};                      // AT+CGEREP mode, buffer
  // The SIM answers (inserted, its PIN entered): written only by the SIM
  // (commands/sim_card.hpp) as its state changes; without it no registration.
  bool sim_ready = true;
  // The network is there (`ctl network --detach` takes it away): written only
  // by the control socket's network request.
  bool in_coverage = true;
  bool registered() const { return cfun == 1 && sim_ready && in_coverage; }
  // Not registered but looking for a network (27.007 <stat> 2): out of
  // coverage with the radio on and the SIM ready.
  bool searching() const { return cfun == 1 && sim_ready && !in_coverage; }
};

}  // namespace vmodem::sim
