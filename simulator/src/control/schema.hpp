// The control protocol's schema: every command, its arguments, its result and
// the errors it can return, in one table (QMP's habit). `query-commands`
// returns this table, the server validates every request against it before
// the module sees it, and `vmodem ctl` builds its subcommands and --help from
// it, so the three can never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/simulator/control_target.hpp>

namespace vmodem::sim::control {

// The closed set of error classes (QMP names).
inline constexpr std::string_view kGenericError = "GenericError";
inline constexpr std::string_view kCommandNotFound = "CommandNotFound";
inline constexpr std::string_view kInvalidParameter = "InvalidParameter";
inline constexpr std::string_view kDeviceNotActive = "DeviceNotActive";
inline constexpr std::string_view kDeviceBusy = "DeviceBusy";

enum class ArgType : std::uint8_t {
  string,
  path,     // a host file path; must be absolute (the server's cwd is not the client's)
  integer,  // unsigned, JSON integer only (3.0 is refused)
  number,   // any JSON number
  boolean,
  string_list,
  integer_list,
  object,  // members validated against `fields`
  // A 64-bit seed: a decimal string (exact, as replies give it) or a JSON
  // integer (exact only below 2^53 in many clients' JSON parsers).
  seed,
};
std::string_view to_string(ArgType type);

// The value of an argument checked as ArgType::seed.
std::uint64_t seed_value(const nlohmann::json& value);
// `text` as a decimal 64-bit number: digits only, no sign, no overflow.
std::optional<std::uint64_t> parse_decimal_u64(std::string_view text);

struct ArgSpec {
  std::string_view name;
  ArgType type;
  bool required = false;
  std::string_view description;
  std::vector<std::string_view> allowed{};  // strings / list elements; empty = any
  std::optional<std::uint64_t> min{};       // integers / integer list elements
  std::optional<std::uint64_t> max{};
  std::optional<std::size_t> items{};  // exact list length, if fixed
  std::vector<ArgSpec> fields{};       // object members
  // `vmodem ctl` also takes it without its --name (`ctl disarm 3`).
  bool positional = false;
};

struct CommandSpec {
  std::string_view name;
  std::string_view description;
  std::vector<ArgSpec> args;
  std::string_view returns;
  std::vector<std::string_view> errors;  // classes besides the protocol's own
};

// Every command, in the order query-commands lists them.
const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(std::string_view name);

// The schema as JSON: one command, and the whole table (query-commands).
nlohmann::json describe(const CommandSpec& command);
nlohmann::json describe_commands();

// Checks `arguments` (an object, or null for none) against the command's
// schema: unknown, missing or mistyped arguments and values outside the
// allowed set give InvalidParameter naming the argument ("rule.effect" for
// object members). Cross-argument rules live in requests.hpp.
tl::expected<void, ControlError> validate_arguments(const CommandSpec& command,
                                                    const nlohmann::json& arguments);

// Shorthand for an InvalidParameter error about argument `name`.
ControlError invalid_parameter(std::string_view name, std::string_view why);

}  // namespace vmodem::sim::control
