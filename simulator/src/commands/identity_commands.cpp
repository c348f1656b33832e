// Identity: ATI, +GMI/+CGMI, +GMM/+CGMM, +GMR/+CGMR, +QGMR, +CGSN/+GSN,
// +CIMI, +QCCID, +GCAP. Strings come from the profile.
#include <vmodem/simulator/gate.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

void register_identity_commands(at::Registry& registry, Module& module) {
  const Identity& id = module.profile().identity;
  (void)registry.add(
      "I", lines_command({id.manufacturer, id.model, "Revision: " + id.revision}, kAlways));
  for (const char* name : {"+GMI", "+CGMI"})
    (void)registry.add(name, lines_command({id.manufacturer}, kAlways));
  for (const char* name : {"+GMM", "+CGMM"})
    (void)registry.add(name, lines_command({id.model}, kAlways));
  for (const char* name : {"+GMR", "+CGMR"})
    (void)registry.add(name, lines_command({id.revision}, kAlways));
  (void)registry.add("+QGMR", lines_command({id.subedition}, kAlways));
  (void)registry.add("+GSN", lines_command({id.imei}, kAlways));
  (void)registry.add("+GCAP", lines_command({"+GCAP: +CGSM"}, kAlways));

  // AT+CGSN prints the IMEI; AT+CGSN=1 the 27.007 form with a prefix.
  at::CommandSpec cgsn = lines_command({id.imei}, kAlways);
  cgsn.write = [imei = id.imei](at::Call& call) {
    const auto snt = int_arg(call.command, 0, 0, 3);
    if (!snt) return void(call.responder.cme_error(50));
    call.responder.info(*snt == 1 ? "+CGSN: \"" + imei + "\"" : imei);
    call.responder.ok();
  };
  (void)registry.add("+CGSN", std::move(cgsn));

  // The SIM answers once the modem side is up.
  (void)registry.add("+CIMI", lines_command({id.imsi}, kNeedsRdy));
  (void)registry.add("+QCCID", lines_command({"+QCCID: " + id.iccid}, kNeedsRdy));
  (void)registry.add("+CCID", lines_command({"+CCID: " + id.iccid}, kNeedsRdy));
}

}  // namespace vmodem::sim
