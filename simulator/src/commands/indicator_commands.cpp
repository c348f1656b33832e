// What the module reports about its service besides registration (BG95
// manual and 27.007): the network's names (+QSPN), the last error cause
// (+CEER), the indicators (+CIND), the temperatures (+QTEMP) and the SIM's
// preferred operators (+CPOL).
//
// The module is a simulation: its temperatures are steady, nothing ever
// failed (+CEER), and the SIM's preferred-operator list is empty (a write
// answers ERROR: the list is not kept).
#include <algorithm>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

namespace {

// +QTEMP: the PMIC, crystal oscillator and PA sensors, in degrees Celsius.
constexpr int kPmicCelsius = 33, kXoCelsius = 32, kPaCelsius = 31;

// +CIND's indicators as the BG95 lists them, in order.
constexpr const char* kCindRanges =
    "+CIND: (\"battchg\",(0-5)),(\"signal\",(0-5)),(\"service\",(0,1)),(\"call\",(0,1)),"
    "(\"roam\",(0,1)),(\"smsfull\",(0,1)),(\"GPRS coverage\",(0,1)),(\"callsetup\",(0-3))";

// +CSQ's <rssi> 0-31 as the 0-5 "signal" indicator (99, not known: 0).
int signal_level(std::uint32_t rssi) {
  if (rssi > 31) return 0;
  return std::min(5, static_cast<int>(rssi) / 6);
}

}  // namespace

void register_indicator_commands(at::Registry& registry, const NetworkConfig& network,
                                 RuntimeState& radio) {
  // +QSPN: <FNN>,<SNN>,<SPN>,<alphabet>,<RPLMN>: the network's full and short
  // names, the SIM's service provider name (none here) and the registered PLMN.
  at::CommandSpec qspn;
  qspn.gate_tag = kNeedsSimPin;
  qspn.execute = [&network, &radio](at::Call& call) {
    const bool on = radio.registered();
    call.responder.info("+QSPN: " + quoted(on ? network.operator_long : "") + "," +
                        quoted(on ? network.operator_short : "") + ",\"\",0," +
                        quoted(on ? network.mcc_mnc : ""));
    call.responder.ok();
  };
  qspn.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+QSPN", std::move(qspn));

  at::CommandSpec ceer;
  ceer.execute = [](at::Call& call) {
    call.responder.info("+CEER: \"No report available\"");
    call.responder.ok();
  };
  ceer.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CEER", std::move(ceer));

  at::CommandSpec cind;
  cind.gate_tag = kNeedsRdy;
  cind.read = [&network, &radio](at::Call& call) {
    const bool on = radio.registered();
    const int signal = on ? signal_level(network.rssi) : 0;
    call.responder.info("+CIND: 5," + std::to_string(signal) + "," + (on ? "1" : "0") + ",0," +
                        (on && network.roaming ? "1" : "0") + ",0," + (on ? "1" : "0") + ",0");
    call.responder.ok();
  };
  cind.test = [](at::Call& call) {
    call.responder.info(kCindRanges);
    call.responder.ok();
  };
  (void)registry.add("+CIND", std::move(cind));

  at::CommandSpec qtemp;
  qtemp.execute = [](at::Call& call) {
    call.responder.info("+QTEMP: " + std::to_string(kPmicCelsius) + "," +
                        std::to_string(kXoCelsius) + "," + std::to_string(kPaCelsius));
    call.responder.ok();
  };
  qtemp.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+QTEMP", std::move(qtemp));

  // The SIM's preferred operators: an empty list.
  at::CommandSpec cpol;
  cpol.gate_tag = kNeedsSimPin;
  cpol.read = [](at::Call& call) { call.responder.ok(); };
  cpol.test = [](at::Call& call) {
    call.responder.info("+CPOL: (1-8),(0-2)");
    call.responder.ok();
  };
  (void)registry.add("+CPOL", std::move(cpol));
}

}  // namespace vmodem::sim
