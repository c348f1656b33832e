// Power: AT+CFUN (including =1,1 reset) and AT+QPOWD.
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

void register_power_commands(at::Registry& registry, PowerControl& power, RuntimeState& radio) {
  at::CommandSpec cfun;
  cfun.gate_tag = kNeedsRdy;
  cfun.read = [&radio](at::Call& call) {
    call.responder.info("+CFUN: " + std::to_string(radio.cfun));
    call.responder.ok();
  };
  cfun.write = [&power, &radio](at::Call& call) {
    const auto fun = int_arg(call.command, 0, 0, 4);
    const auto rst = call.command.arg(1).is_omitted() ? std::optional<std::int64_t>(0)
                                                      : int_arg(call.command, 1, 0, 1);
    if (!fun || *fun == 2 || *fun == 3 || !rst) return void(call.responder.error());
    if (*rst == 1 && *fun != 1) return void(call.responder.error());
    if (*rst == 1) {
      call.responder.ok();
      power.request_reset();
      return;
    }
    radio.cfun = static_cast<int>(*fun);
    call.responder.ok();
  };
  cfun.test = [](at::Call& call) {
    call.responder.info("+CFUN: (0,1,4),(0,1)");
    call.responder.ok();
  };
  (void)registry.add("+CFUN", std::move(cfun));

  at::CommandSpec qpowd;
  auto power_down = [&power](at::Call& call, bool immediate) {
    call.responder.ok();
    power.request_power_down(immediate);
  };
  qpowd.execute = [power_down](at::Call& call) { power_down(call, false); };
  qpowd.write = [power_down](at::Call& call) {
    const auto mode = int_arg(call.command, 0, 0, 1);
    if (!mode) return void(call.responder.error());
    power_down(call, *mode == 0);
  };
  qpowd.test = [](at::Call& call) {
    call.responder.info("+QPOWD: (0,1)");
    call.responder.ok();
  };
  (void)registry.add("+QPOWD", std::move(qpowd));
}

}  // namespace vmodem::sim
