#pragma once

// The command registry: names → handlers, shared by every port of a module.
// Configure it before the ports start; afterwards the engine only reads it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/at/command.hpp>
#include <vmodem/at/error.hpp>
#include <vmodem/at/responder.hpp>
#include <vmodem/at/result.hpp>
#include <vmodem/at/settings.hpp>

namespace vmodem::at {

// What a handler gets. `command` and the references live only during the
// call; copy `responder` (and what you need of `command`) to answer later.
struct Call {
  const Command& command;
  Responder responder;
  PortSettings& settings;        // this port's settings, writable (ATE, ATV...)
  const PortSettings& defaults;  // the port's power-on settings (ATZ, AT&F)
};

using Handler = std::function<void(Call& call)>;

// One command: a handler per form it supports. A form without a handler
// answers `ERROR`.
struct CommandSpec {
  Handler execute{};
  Handler read{};
  Handler write{};
  Handler test{};
  // Opaque to at/: the gate receives it, so the module can mark e.g. "needs
  // RDY" or "needs APP RDY" without at/ knowing what that means.
  std::uint32_t gate_tag = 0;
};

// Asked before every handler call. nullopt lets the command run; a Failure
// refuses it (the handler is not called and the line stops there).
using Gate = std::function<std::optional<Failure>(const Command& command, std::uint32_t gate_tag)>;

class Registry {
 public:
  // Registers (or replaces) a command. `name` is as the parser reports it:
  // "+CGMI", "+QFUPL", "E", "&F", "S3", "I", "D"; case-insensitive.
  // Errors: kInvalidArgument if the name is not a V.250 command name.
  tl::expected<void, Error> add(std::string_view name, CommandSpec spec);

  // The spec for an upper-case name, or nullptr. The pointer stays valid until
  // the same name is added again.
  const CommandSpec* find(std::string_view name) const;

  // Registered names in sorted order (for AT+CLAC).
  std::vector<std::string> names() const;

  // Installs the readiness policy (replaces any previous one). Without a gate
  // every command runs.
  void set_gate(Gate gate) { gate_ = std::move(gate); }
  std::optional<Failure> check_gate(const Command& command, std::uint32_t gate_tag) const;

  // Text printed for `code` under +CMEE=2 (overrides builtin_cme_text).
  void set_cme_text(int code, std::string text);
  // The text to print for `code`: override, built-in, or nullopt.
  std::optional<std::string_view> cme_text(int code) const;

 private:
  std::map<std::string, CommandSpec, std::less<>> commands_;
  std::map<int, std::string> cme_texts_;
  Gate gate_;
};

// Registers the commands that only touch port settings: E, V, Q, S3, S4, S5,
// +CMEE, and Z / &F (restore the defaults). The module replaces Z / &F / others
// with its own handlers when they must do more.
void install_v250_commands(Registry& registry);

}  // namespace vmodem::at
