// General settings: ATZ, AT&F, AT&W, ATX, AT&C, AT&D, +CSCS, +IPR, +CLAC.
// E/V/Q/S3-S5/+CMEE come from at::install_v250_commands.
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {

namespace {

// A basic command taking a number in [0, max] that the module accepts and
// keeps nowhere (ATX, AT&C, AT&D: they shape modem-port signalling).
at::CommandSpec accept_number(std::int64_t max) {
  at::CommandSpec spec;
  spec.execute = [max](at::Call& call) {
    if (!call.command.arg(0).is_omitted() && !int_arg(call.command, 0, 0, max))
      return void(call.responder.error());
    call.responder.ok();
  };
  return spec;
}

}  // namespace

void register_general_commands(at::Registry& registry, NvSettings& nv) {
  at::CommandSpec z;
  z.execute = [&nv](at::Call& call) {
    call.settings = call.defaults;
    if (const auto& saved = nv.values().profile) apply_saved_settings(call.settings, *saved);
    call.responder.ok();
  };
  (void)registry.add("Z", std::move(z));

  at::CommandSpec factory;
  factory.execute = [](at::Call& call) {
    call.settings = call.defaults;
    call.responder.ok();
  };
  (void)registry.add("&F", std::move(factory));

  at::CommandSpec write_profile;
  write_profile.execute = [&nv](at::Call& call) {
    nv.update([&](NvValues& v) { v.profile = saved_settings(call.settings); });
    call.responder.ok();
  };
  write_profile.gate_tag = kNeedsRdy;
  (void)registry.add("&W", std::move(write_profile));

  (void)registry.add("X", accept_number(4));
  (void)registry.add("&C", accept_number(1));
  (void)registry.add("&D", accept_number(2));

  at::CommandSpec cscs;
  cscs.read = [&nv](at::Call& call) {
    call.responder.info("+CSCS: " + quoted(nv.values().cscs));
    call.responder.ok();
  };
  cscs.test = [](at::Call& call) {
    call.responder.info("+CSCS: (\"GSM\",\"IRA\",\"UCS2\")");
    call.responder.ok();
  };
  cscs.write = [&nv](at::Call& call) {
    const auto set = str_arg(call.command, 0);
    if (!set || (*set != "GSM" && *set != "IRA" && *set != "UCS2"))
      return void(call.responder.error());
    nv.update([&](NvValues& v) { v.cscs = *set; });
    call.responder.ok();
  };
  (void)registry.add("+CSCS", std::move(cscs));

  at::CommandSpec ipr;
  ipr.read = [](at::Call& call) {
    call.responder.info("+IPR: 115200");
    call.responder.ok();
  };
  ipr.test = [](at::Call& call) {
    call.responder.info("+IPR: (0,4800,9600,19200,38400,57600,115200,230400,460800,921600)");
    call.responder.ok();
  };
  ipr.write = [](at::Call& call) {
    // A PTY has no baud rate: accept the values a real UART takes.
    static constexpr std::int64_t kRates[] = {0,     4800,   9600,   19200,  38400,
                                              57600, 115200, 230400, 460800, 921600};
    const auto rate = int_arg(call.command, 0, 0, 921600);
    if (!rate || std::find(std::begin(kRates), std::end(kRates), *rate) == std::end(kRates)) {
      return void(call.responder.error());
    }
    call.responder.ok();
  };
  (void)registry.add("+IPR", std::move(ipr));

  at::CommandSpec clac;
  clac.execute = [&registry](at::Call& call) {
    for (const auto& name : registry.names())
      call.responder.info("AT" + name);
    call.responder.ok();
  };
  (void)registry.add("+CLAC", std::move(clac));
}

}  // namespace vmodem::sim
