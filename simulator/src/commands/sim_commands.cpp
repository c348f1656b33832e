// The SIM: +CPIN, +CLCK ("SC"), +CPWD ("SC"), +QPINC, +CRSM (EF ICCID and EF
// IMSI), +CNUM, +QSIMSTAT; and the gate of the commands that read the card
// (+CIMI, +QCCID, ...). The card itself, its lock and what its state
// changes do: sim_card.hpp.
//
// Arguments that are not well-formed (a PIN that is not 4-8 digits, a PUK
// that is not 8, a missing one) answer ERROR and cost no retry; a wrong PIN
// or PUK answers +CME ERROR: 16 and costs one.
#include <algorithm>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/sim_card.hpp"

namespace vmodem::sim {

namespace {

void answer(at::Call& call, SimOutcome outcome) {
  if (outcome) return void(call.responder.cme_error(*outcome));
  call.responder.ok();
}

const char* cpin_code(SimState state) {
  switch (state) {
    case SimState::pin_required:
      return "SIM PIN";
    case SimState::puk_required:
      return "SIM PUK";
    default:
      return "READY";
  }
}

// The only facility of +CLCK and +CPWD: the SIM's PIN lock.
bool is_sc(const std::optional<std::string>& facility) {
  return facility && (*facility == "SC" || *facility == "sc");
}

void register_cpin(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [&sim](at::Call& call) {
    if (auto refused = sim.refusal(false)) return void(call.responder.cme_error(*refused));
    call.responder.info(std::string("+CPIN: ") + cpin_code(sim.state()));
    call.responder.ok();
  };
  // AT+CPIN=<pin>, or AT+CPIN=<puk>,<newpin> when the PUK is asked for.
  spec.write = [&sim](at::Call& call) {
    const auto& args = call.command.args;
    const auto first = str_arg(call.command, 0);
    const auto second = args.size() > 1 ? str_arg(call.command, 1) : std::nullopt;
    if (!first || args.size() > 2 || (args.size() == 2 && !second))
      return void(call.responder.error());
    if (!second) {
      if (sim.state() == SimState::puk_required) return void(call.responder.cme_error(12));
      if (!SimCard::is_pin(*first)) return void(call.responder.error());
      return answer(call, sim.enter_pin(*first));
    }
    if (!SimCard::is_puk(*first) || !SimCard::is_pin(*second)) return void(call.responder.error());
    answer(call, sim.enter_puk(*first, *second));
  };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CPIN", std::move(spec));
}

void register_clck(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  // AT+CLCK="SC",<mode>[,<passwd>[,<class>]]: 0 unlock, 1 lock, 2 query.
  spec.write = [&sim](at::Call& call) {
    const auto facility = str_arg(call.command, 0);
    const auto mode = int_arg(call.command, 1, 0, 2);
    if (!facility || !mode || call.command.args.size() > 4) return void(call.responder.error());
    if (!is_sc(facility)) return void(call.responder.cme_error(4));  // operation not supported
    if (*mode == 2) {
      if (auto refused = sim.refusal(false)) return void(call.responder.cme_error(*refused));
      call.responder.info(std::string("+CLCK: ") + (sim.pin_enabled() ? "1" : "0"));
      return void(call.responder.ok());
    }
    const auto pin = str_arg(call.command, 2);
    if (!pin || !SimCard::is_pin(*pin)) return void(call.responder.error());
    answer(call, sim.set_lock(*mode == 1, *pin));
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+CLCK: (\"SC\")");
    call.responder.ok();
  };
  (void)registry.add("+CLCK", std::move(spec));

  at::CommandSpec cpwd;
  cpwd.gate_tag = kNeedsRdy;
  cpwd.write = [&sim](at::Call& call) {
    const auto facility = str_arg(call.command, 0);
    const auto old_pin = str_arg(call.command, 1);
    const auto new_pin = str_arg(call.command, 2);
    if (!facility || call.command.args.size() != 3) return void(call.responder.error());
    if (!is_sc(facility)) return void(call.responder.cme_error(4));
    if (!old_pin || !new_pin || !SimCard::is_pin(*old_pin) || !SimCard::is_pin(*new_pin))
      return void(call.responder.error());
    answer(call, sim.change_pin(*old_pin, *new_pin));
  };
  cpwd.test = [](at::Call& call) {
    call.responder.info("+CPWD: (\"SC\",8)");
    call.responder.ok();
  };
  (void)registry.add("+CPWD", std::move(cpwd));
}

// AT+QPINC: the PIN and PUK retries left. PIN2 is not modelled: its
// counters stay full.
void register_qpinc(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto line = [&sim](bool sc) {
    return sc ? "+QPINC: \"SC\"," + std::to_string(sim.pin_retries()) + "," +
                    std::to_string(sim.puk_retries())
              : "+QPINC: \"P2\"," + std::to_string(kSimPinRetries) + "," +
                    std::to_string(kSimPukRetries);
  };
  spec.write = [&sim, line](at::Call& call) {
    const auto facility = str_arg(call.command, 0);
    if (!facility || call.command.args.size() != 1 || (!is_sc(facility) && *facility != "P2"))
      return void(call.responder.error());
    if (auto refused = sim.refusal(false)) return void(call.responder.cme_error(*refused));
    call.responder.info(line(is_sc(facility)));
    call.responder.ok();
  };
  spec.read = [&sim, line](at::Call& call) {
    if (auto refused = sim.refusal(false)) return void(call.responder.cme_error(*refused));
    call.responder.info(line(true));
    call.responder.info(line(false));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QPINC: (\"SC\",\"P2\")");
    call.responder.ok();
  };
  (void)registry.add("+QPINC", std::move(spec));
}

std::string hex_byte(std::size_t value) {
  constexpr const char* kDigits = "0123456789ABCDEF";
  return {kDigits[(value >> 4) & 15], kDigits[value & 15]};
}

// The digits in BCD with each byte's nibbles swapped (the first digit in
// the low nibble), padded with F, then with FF bytes to `size` bytes.
std::string swapped_bcd(std::string digits, std::size_t size) {
  if (digits.size() % 2 != 0) digits += 'F';
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    out += digits[i + 1];
    out += digits[i];
  }
  while (out.size() < size * 2)
    out += "FF";
  return out;
}

struct SimFile {
  std::string hex;  // its content
  bool needs_pin;
};

constexpr int kEfIccid = 0x2FE2, kEfImsi = 0x6F07;

// EF ICCID (10 bytes) and EF IMSI (9 bytes: the length, then the digits
// behind a parity nibble, 3GPP TS 31.102 §4.2.2).
std::optional<SimFile> sim_file(const Identity& id, std::int64_t file_id) {
  if (file_id == kEfIccid) return SimFile{swapped_bcd(id.iccid, 10), false};
  if (file_id == kEfImsi) {
    const std::string nibbles = (id.imsi.size() % 2 != 0 ? "9" : "1") + id.imsi;
    return SimFile{hex_byte((nibbles.size() + 1) / 2) + swapped_bcd(nibbles, 8), true};
  }
  return std::nullopt;
}

// GET RESPONSE: the file's control parameters (ETSI TS 102 221 §11.1.1.3):
// a transparent working EF, its id, its size, activated.
std::string fcp_template(std::int64_t file_id, std::size_t size) {
  const auto id = static_cast<std::size_t>(file_id);
  const std::string body = "82024121" + ("8302" + hex_byte(id >> 8) + hex_byte(id & 255)) +
                           "8A0105" + "800200" + hex_byte(size);
  return "62" + hex_byte(body.size() / 2) + body;
}

// AT+CRSM=<command>[,<fileid>[,<P1>,<P2>,<P3>[,<data>[,<pathid>]]]]: the SIM's
// answer as +CRSM: <sw1>,<sw2>[,"<hex>"].
void register_crsm(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [&sim](at::Call& call) {
    const auto command = int_arg(call.command, 0, 0, 255);
    constexpr std::int64_t kKnown[] = {176, 178, 192, 203, 214, 219, 220, 242};
    if (!command || std::find(std::begin(kKnown), std::end(kKnown), *command) == std::end(kKnown) ||
        call.command.args.size() > 7)
      return void(call.responder.error());
    if (auto refused = sim.refusal(false)) return void(call.responder.cme_error(*refused));
    auto reply = [&call](int sw1, int sw2, const std::string& data = {}) {
      std::string line = "+CRSM: " + std::to_string(sw1) + "," + std::to_string(sw2);
      if (!data.empty()) line += "," + quoted(data);
      call.responder.info(line);
      call.responder.ok();
    };
    if (*command == 242) return reply(144, 0);  // STATUS
    const auto file_id = int_arg(call.command, 1, 0, 0xFFFF);
    if (!file_id) return void(call.responder.error());
    const auto file = sim_file(sim.identity(), *file_id);
    if (!file) return reply(106, 130);  // 6A82: file not found
    const std::size_t size = file->hex.size() / 2;
    if (*command == 192) return reply(144, 0, fcp_template(*file_id, size));
    if (*command == 178) return reply(105, 129);  // 6981: not a record file
    if (*command != 176) return reply(105, 130);  // 6982: updates need the operator's keys
    if (file->needs_pin && sim.state() != SimState::ready) return reply(105, 130);
    const auto p1 = int_arg(call.command, 2, 0, 255);
    const auto p2 = int_arg(call.command, 3, 0, 255);
    const auto p3 = int_arg(call.command, 4, 0, 255);
    if (!p1 || !p2 || !p3) return void(call.responder.error());
    const auto offset = static_cast<std::size_t>(*p1 * 256 + *p2);
    if (offset >= size) return reply(107, 0);  // 6B00: wrong P1-P2
    const std::size_t left = size - offset;
    const std::size_t length = *p3 == 0 ? left : static_cast<std::size_t>(*p3);
    if (length > left) return reply(108, static_cast<int>(left));  // 6Cxx: xx bytes are there
    reply(144, 0, file->hex.substr(offset * 2, length * 2));
  };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CRSM", std::move(spec));
}

void register_cnum(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsSimPin;
  spec.execute = [&sim](at::Call& call) {
    const std::string& number = sim.config().msisdn;
    if (!number.empty()) {
      const char* type = number.starts_with('+') ? "145" : "129";  // international or not
      call.responder.info("+CNUM: \"\"," + quoted(number) + "," + type);
    }
    call.responder.ok();
  };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CNUM", std::move(spec));
}

void register_qsimstat(at::Registry& registry, SimCard& sim) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [&sim](at::Call& call) {
    call.responder.info("+QSIMSTAT: " + std::to_string(sim.qsimstat()) + "," +
                        (sim.inserted() ? "1" : "0"));
    call.responder.ok();
  };
  spec.write = [&sim](at::Call& call) {
    const auto enable = int_arg(call.command, 0, 0, 1);
    if (!enable || call.command.args.size() != 1) return void(call.responder.error());
    sim.set_qsimstat(static_cast<int>(*enable));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QSIMSTAT: (0,1)");
    call.responder.ok();
  };
  (void)registry.add("+QSIMSTAT", std::move(spec));
}

}  // namespace

void register_sim_commands(at::Registry& registry, SimCard& sim) {
  register_cpin(registry, sim);
  register_clck(registry, sim);
  register_qpinc(registry, sim);
  register_crsm(registry, sim);
  register_cnum(registry, sim);
  register_qsimstat(registry, sim);
}

std::optional<at::Failure> sim_gate(const SimCard& sim, const at::Command& command,
                                    std::uint32_t gate_tag) {
  if ((gate_tag != kNeedsSim && gate_tag != kNeedsSimPin) || command.form == at::CommandForm::kTest)
    return std::nullopt;
  if (auto refused = sim.refusal(gate_tag == kNeedsSimPin)) return at::Failure::cme(*refused);
  return std::nullopt;
}

}  // namespace vmodem::sim
