// The PDP contexts AT+QICSGP / AT+CGDCONT define (config_commands.cpp), for
// the commands that use one (AT+QFOTADL).
#pragma once

namespace vmodem::sim {

class NvSettings;
struct NetworkConfig;

// True when context `cid` is defined: saved by AT+QICSGP or AT+CGDCONT, or
// context 1, which the factory defines with the profile's APN.
bool pdp_context_defined(const NetworkConfig& network, NvSettings& nv, int cid);

}  // namespace vmodem::sim
