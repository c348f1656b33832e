// The simulated network: the module is registered (home) on the profile's
// LTE-M/NB-IoT/UMTS cell whenever AT+CFUN is 1 and the SIM is ready (its
// PIN entered: sim_commands.cpp). +CSQ, +CREG, +CGREG,
// +CEREG, +COPS, +CTZR, +CTZU, +QNWINFO, +QCSQ, +CGATT.
#include <utility>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/registration.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {

namespace {

// +CREG / +CGREG / +CEREG share one shape: <n>,<stat>[,<lac|tac>,<ci>,<AcT>].
at::CommandSpec registration_command(const NetworkConfig& net, RuntimeState& radio,
                                     std::string prefix, int RuntimeState::*mode) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [&net, &radio, prefix, mode](at::Call& call) {
    const RuntimeState& rt = radio;
    call.responder.info(prefix + ": " + std::to_string(rt.*mode) + "," +
                        registration_status(net, rt, rt.*mode));
    call.responder.ok();
  };
  spec.write = [&radio, mode](at::Call& call) {
    const auto n = call.command.arg(0).is_omitted() ? std::optional<std::int64_t>(0)
                                                    : int_arg(call.command, 0, 0, 2);
    if (!n) return void(call.responder.error());
    radio.*mode = static_cast<int>(*n);
    call.responder.ok();
  };
  spec.test = [prefix](at::Call& call) {
    call.responder.info(prefix + ": (0-2)");
    call.responder.ok();
  };
  return spec;
}

std::string operator_name(const NetworkConfig& net, int format) {
  if (format == 1) return net.operator_short;
  if (format == 2) return net.mcc_mnc;
  return net.operator_long;
}

at::CommandSpec cops_command(const NetworkConfig& net, RuntimeState& radio) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [&net, &radio](at::Call& call) {
    const RuntimeState& rt = radio;
    if (!rt.registered()) {
      call.responder.info("+COPS: 0");
    } else {
      call.responder.info("+COPS: 0," + std::to_string(rt.cops_format) + "," +
                          quoted(operator_name(net, rt.cops_format)) + "," +
                          std::to_string(net.act));
    }
    call.responder.ok();
  };
  spec.write = [&net, &radio](at::Call& call) {
    const auto mode = int_arg(call.command, 0, 0, 4);
    if (!mode) return void(call.responder.error());
    if (!call.command.arg(1).is_omitted()) {
      const auto format = int_arg(call.command, 1, 0, 2);
      if (!format) return void(call.responder.error());
      radio.cops_format = static_cast<int>(*format);
    }
    if (*mode == 1 || *mode == 4) {
      // Manual selection: only the simulated network exists.
      const auto oper = str_arg(call.command, 2);
      if (!oper ||
          (*oper != net.mcc_mnc && *oper != net.operator_long && *oper != net.operator_short)) {
        return void(call.responder.cme_error(32));  // network not allowed
      }
    }
    call.responder.ok();
  };
  spec.test = [&net](at::Call& call) {
    call.responder.info("+COPS: (2," + quoted(net.operator_long) + "," +
                        quoted(net.operator_short) + "," + quoted(net.mcc_mnc) + "," +
                        std::to_string(net.act) + "),,(0-4),(0-2)");
    call.responder.ok();
  };
  return spec;
}

}  // namespace

std::string registration_status(const NetworkConfig& net, const RuntimeState& radio, int n) {
  if (!radio.registered()) return radio.searching() ? "2" : "0";
  std::string out = net.roaming ? "5" : "1";  // registered, roaming / home
  if (n >= 2)
    out += "," + quoted(net.tac) + "," + quoted(net.cell_id) + "," + std::to_string(net.act);
  return out;
}

std::vector<std::string> registration_urcs(const NetworkConfig& net, const RuntimeState& radio) {
  std::vector<std::string> out;
  for (const auto& [prefix, n] :
       {std::pair{"+CREG: ", radio.creg_n}, std::pair{"+CGREG: ", radio.cgreg_n},
        std::pair{"+CEREG: ", radio.cereg_n}}) {
    if (n >= 1) out.push_back(prefix + registration_status(net, radio, n));
  }
  return out;
}

void settle_registration(bool was_registered, const NetworkConfig& net, RuntimeState& radio,
                         UrcSink& urcs, const std::function<void(int cid)>& context_lost) {
  if (radio.registered() == was_registered) return;
  if (was_registered) {
    for (const int cid : std::exchange(radio.active_contexts, {}))
      context_lost(cid);
  }
  for (const auto& urc : registration_urcs(net, radio))
    urcs.send_urc(urc);
}

void register_network_commands(at::Registry& registry, const NetworkConfig& net, NvSettings& nv,
                               RuntimeState& radio) {
  at::CommandSpec csq;
  csq.gate_tag = kNeedsRdy;
  csq.execute = [&net, &radio](at::Call& call) {
    call.responder.info(radio.registered()
                            ? "+CSQ: " + std::to_string(net.rssi) + "," + std::to_string(net.ber)
                            : "+CSQ: 99,99");
    call.responder.ok();
  };
  csq.test = [](at::Call& call) {
    call.responder.info("+CSQ: (0-31,99),(0-7,99)");
    call.responder.ok();
  };
  (void)registry.add("+CSQ", std::move(csq));

  (void)registry.add("+CREG", registration_command(net, radio, "+CREG", &RuntimeState::creg_n));
  (void)registry.add("+CGREG", registration_command(net, radio, "+CGREG", &RuntimeState::cgreg_n));
  (void)registry.add("+CEREG", registration_command(net, radio, "+CEREG", &RuntimeState::cereg_n));
  (void)registry.add("+COPS", cops_command(net, radio));

  at::CommandSpec ctzr;
  ctzr.read = [&radio](at::Call& call) {
    call.responder.info("+CTZR: " + std::to_string(radio.ctzr));
    call.responder.ok();
  };
  ctzr.write = [&radio](at::Call& call) {
    const auto v = int_arg(call.command, 0, 0, 3);
    if (!v) return void(call.responder.error());
    radio.ctzr = static_cast<int>(*v);
    call.responder.ok();
  };
  ctzr.test = [](at::Call& call) {
    call.responder.info("+CTZR: (0-3)");
    call.responder.ok();
  };
  (void)registry.add("+CTZR", std::move(ctzr));

  at::CommandSpec ctzu;
  ctzu.read = [&nv](at::Call& call) {
    call.responder.info("+CTZU: " + std::to_string(nv.values().ctzu));
    call.responder.ok();
  };
  ctzu.write = [&nv](at::Call& call) {
    const auto v = int_arg(call.command, 0, 0, 3);
    if (!v) return void(call.responder.error());
    nv.update([&](NvValues& values) { values.ctzu = static_cast<int>(*v); });
    call.responder.ok();
  };
  ctzu.test = [](at::Call& call) {
    call.responder.info("+CTZU: (0,1,3)");
    call.responder.ok();
  };
  (void)registry.add("+CTZU", std::move(ctzu));

  at::CommandSpec qnwinfo;
  qnwinfo.gate_tag = kNeedsRdy;
  qnwinfo.execute = [&net, &radio](at::Call& call) {
    if (!radio.registered()) {
      call.responder.info("+QNWINFO: No Service");
    } else {
      const char* act = net.act == 9   ? "NBIoT"
                        : net.act == 8 ? "eMTC"
                        : net.act == 2 ? "WCDMA"
                                       : "LTE";
      call.responder.info("+QNWINFO: " + quoted(act) + "," + quoted(net.mcc_mnc) +
                          ",\"LTE BAND 3\",1575");
    }
    call.responder.ok();
  };
  (void)registry.add("+QNWINFO", std::move(qnwinfo));

  at::CommandSpec cgatt;
  cgatt.gate_tag = kNeedsRdy;
  cgatt.read = [&radio](at::Call& call) {
    call.responder.info(std::string("+CGATT: ") + (radio.registered() ? "1" : "0"));
    call.responder.ok();
  };
  cgatt.write = [](at::Call& call) {
    if (!int_arg(call.command, 0, 0, 1)) return void(call.responder.error());
    call.responder.ok();
  };
  cgatt.test = [](at::Call& call) {
    call.responder.info("+CGATT: (0,1)");
    call.responder.ok();
  };
  (void)registry.add("+CGATT", std::move(cgatt));
}

}  // namespace vmodem::sim
