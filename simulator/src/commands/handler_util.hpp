// Small helpers shared by the command groups.
#pragma once

#include <optional>
#include <string>

#include <vmodem/at/registry.hpp>

namespace vmodem::sim {

// The integer argument `i`, when present and in [min, max].
inline std::optional<std::int64_t> int_arg(const at::Command& command, std::size_t i,
                                           std::int64_t min, std::int64_t max) {
  const auto value = command.arg(i).as_integer();
  if (!value || *value < min || *value > max) return std::nullopt;
  return value;
}

// The string argument `i` (quoted or bare), when present.
inline std::optional<std::string> str_arg(const at::Command& command, std::size_t i) {
  const auto value = command.arg(i).as_string();
  if (!value) return std::nullopt;
  return std::string(*value);
}

inline std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

// A command that only prints fixed lines for its execute form.
inline at::CommandSpec lines_command(std::vector<std::string> lines, std::uint32_t gate) {
  at::CommandSpec spec;
  spec.execute = [lines = std::move(lines)](at::Call& call) {
    for (const auto& line : lines)
      call.responder.info(line);
    call.responder.ok();
  };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  spec.gate_tag = gate;
  return spec;
}

}  // namespace vmodem::sim
