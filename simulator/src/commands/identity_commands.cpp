// Identity: ATI, +GMI/+CGMI, +GMM/+CGMM, +GMR/+CGMR, +QGMR, +CGSN/+GSN,
// +CIMI, +QCCID, +GCAP. Strings come from the profile; the revision from the
// firmware running (its version in the NAND boot record), so it changes
// with a firmware update.
#include <functional>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

namespace {

// Like lines_command, with lines computed when the command runs.
at::CommandSpec live_lines_command(std::function<std::vector<std::string>()> lines,
                                   std::uint32_t gate) {
  at::CommandSpec spec = lines_command({}, gate);
  spec.execute = [lines = std::move(lines)](at::Call& call) {
    for (const auto& line : lines())
      call.responder.info(line);
    call.responder.ok();
  };
  return spec;
}

// AT+QGMR: the subedition of the running firmware. The profile's
// subedition is "<revision>_<build>"; another firmware version keeps the
// build suffix behind its own version.
std::string subedition(const Identity& id, const std::string& version) {
  if (version == id.revision) return id.subedition;
  const std::string prefix = id.revision + "_";
  if (id.subedition.starts_with(prefix)) return version + "_" + id.subedition.substr(prefix.size());
  return version;
}

}  // namespace

void register_identity_commands(at::Registry& registry, const Identity& id,
                                const FirmwareUpdate& firmware) {
  (void)registry.add("I", live_lines_command(
                              [&firmware, &id] {
                                return std::vector<std::string>{
                                    id.manufacturer, id.model,
                                    "Revision: " + firmware.firmware_version()};
                              },
                              kAlways));
  for (const char* name : {"+GMI", "+CGMI"})
    (void)registry.add(name, lines_command({id.manufacturer}, kAlways));
  for (const char* name : {"+GMM", "+CGMM"})
    (void)registry.add(name, lines_command({id.model}, kAlways));
  for (const char* name : {"+GMR", "+CGMR"})
    (void)registry.add(
        name, live_lines_command(
                  [&firmware] { return std::vector<std::string>{firmware.firmware_version()}; },
                  kAlways));
  (void)registry.add(
      "+QGMR", live_lines_command(
                   [&firmware, &id] {
                     return std::vector<std::string>{subedition(id, firmware.firmware_version())};
                   },
                   kAlways));
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

  // Read from the SIM: the ICCID from any card in the slot, the IMSI once
  // its PIN is entered (the gate answers +CME ERROR: 10 / 11 / 12 before).
  (void)registry.add("+CIMI", lines_command({id.imsi}, kNeedsSimPin));
  (void)registry.add("+QCCID", lines_command({"+QCCID: " + id.iccid}, kNeedsSim));
  (void)registry.add("+CCID", lines_command({"+CCID: " + id.iccid}, kNeedsSim));
}

}  // namespace vmodem::sim
