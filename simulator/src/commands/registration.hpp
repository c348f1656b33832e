// Network registration as +CREG, +CGREG and +CEREG report it: one writer of
// the <stat>[,<tac>,<ci>,<AcT>] fields for the read forms and for the URCs a
// change of registration sends.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <vmodem/simulator/module_services.hpp>
#include <vmodem/simulator/module_state.hpp>
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

// "<stat>" for mode n 0-1; "<stat>,"<tac>","<ci>",<AcT>" for n 2 while
// registered (the location of the cell the module is on).
std::string registration_status(const NetworkConfig& network, const RuntimeState& radio, int n);

// The URCs of the registration now, for each of +CREG, +CGREG, +CEREG whose
// mode (AT+CREG=<n>, ...) is 1 or 2, in that order: what a module sends when
// its registration changes.
std::vector<std::string> registration_urcs(const NetworkConfig& network, const RuntimeState& radio);

// After a change that may have changed radio.registered() (the SIM, the
// coverage), given what it was before: when it changed, a registration lost
// takes the PDP contexts with it (`context_lost` for each: their sockets
// close with +QIURC: "pdpdeact") and either way the registration URCs go
// out. Only while the module is on (`urcs` reaches the host).
void settle_registration(bool was_registered, const NetworkConfig& network, RuntimeState& radio,
                         UrcSink& urcs, const std::function<void(int cid)>& context_lost);

}  // namespace vmodem::sim
