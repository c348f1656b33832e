// The commands that only touch port settings (V.250 §6.2, 27.007 +CMEE).

#include <array>
#include <cstdio>
#include <string>

#include <vmodem/at/registry.hpp>

namespace vmodem::at {

namespace {

// ATE / ATV / ATQ: no number means 0 (V.250 §5.3.1); only 0 and 1 exist.
Handler switch_handler(bool PortSettings::*field) {
  return [field](Call& call) {
    const auto& command = call.command;
    const std::int64_t value = command.arg(0).as_integer().value_or(0);
    if (command.args.size() > 1 || (value != 0 && value != 1)) {
      call.responder.error();
      return;
    }
    call.settings.*field = value == 1;
    call.responder.ok();
  };
}

// S3 / S4 / S5: read prints three digits (V.250 §6.2.x), write takes 0-127.
CommandSpec s_register(std::uint8_t PortSettings::*field) {
  CommandSpec spec;
  spec.read = [field](Call& call) {
    std::array<char, 8> text{};
    std::snprintf(text.data(), text.size(), "%03u", static_cast<unsigned>(call.settings.*field));
    call.responder.info(text.data());
    call.responder.ok();
  };
  spec.test = [](Call& call) {
    call.responder.info("(0-127)");
    call.responder.ok();
  };
  spec.write = [field](Call& call) {
    const std::int64_t value = call.command.arg(0).as_integer().value_or(0);
    if (call.command.arg(0).is_string() || value < 0 || value > 127) {
      call.responder.error();
      return;
    }
    call.settings.*field = static_cast<std::uint8_t>(value);
    call.responder.ok();
  };
  return spec;
}

CommandSpec cmee() {
  CommandSpec spec;
  spec.test = [](Call& call) {
    call.responder.info("+CMEE: (0-2)");
    call.responder.ok();
  };
  spec.read = [](Call& call) {
    call.responder.info("+CMEE: " + std::to_string(static_cast<int>(call.settings.cmee)));
    call.responder.ok();
  };
  spec.write = [](Call& call) {
    const auto& argument = call.command.arg(0);
    const std::int64_t value = argument.as_integer().value_or(0);
    if (call.command.args.size() > 1 || argument.is_string() || value < 0 || value > 2) {
      call.responder.error();
      return;
    }
    call.settings.cmee = static_cast<CmeeMode>(value);
    call.responder.ok();
  };
  return spec;
}

// ATO / ATO0: back to online data mode for the port's suspended link.
void return_online(Call& call) {
  const auto& command = call.command;
  if (command.args.size() > 1 || command.arg(0).as_integer().value_or(0) != 0) {
    call.responder.error();
    return;
  }
  if (!call.responder.resume_online()) call.responder.fail(Failure::result(ResultCode::kNoCarrier));
}

void restore_defaults(Call& call) {
  call.settings = call.defaults;
  call.responder.ok();
}

}  // namespace

void install_v250_commands(Registry& registry) {
  // The names are constants known to be valid, so add() cannot fail here.
  (void)registry.add("E", {.execute = switch_handler(&PortSettings::echo)});
  (void)registry.add("V", {.execute = switch_handler(&PortSettings::verbose)});
  (void)registry.add("Q", {.execute = switch_handler(&PortSettings::quiet)});
  (void)registry.add("S3", s_register(&PortSettings::s3));
  (void)registry.add("S4", s_register(&PortSettings::s4));
  (void)registry.add("S5", s_register(&PortSettings::s5));
  (void)registry.add("+CMEE", cmee());
  (void)registry.add("O", {.execute = return_online});
  (void)registry.add("Z", {.execute = restore_defaults});
  (void)registry.add("&F", {.execute = restore_defaults});
}

}  // namespace vmodem::at
