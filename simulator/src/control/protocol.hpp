// The wire format: one JSON object per line, QMP-shaped.
//
//   server -> client on connect  {"vmodem":{"version":..,"model":..},"capabilities":[]}
//   client -> server             {"execute":"power-cut","arguments":{...},"id":<any>}
//   server -> client             {"return":{...},"id":..} |
//   {"error":{"class":..,"desc":..},"id":..} server -> subscriber
//   {"event":"POWER_STATE","data":{...},"timestamp":{"seconds":..,"microseconds":..}}
//
// "id" is optional and echoed verbatim. Lines end with "\n" ("\r\n" accepted);
// empty lines are ignored. Parsing never throws past parse_request.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "control/schema.hpp"

namespace vmodem::sim::control {

// Deeper input is refused before parsing: the JSON library's serializer
// recurses, and an echoed id must never blow the stack.
inline constexpr std::size_t kMaxNesting = 32;

struct Request {
  const CommandSpec* command = nullptr;
  nlohmann::json arguments = nlohmann::json::object();
};

struct ParsedLine {
  bool empty = false;                // blank line: no reply
  std::optional<nlohmann::json> id;  // echoed in the reply when present
  tl::expected<Request, ControlError> request = tl::unexpected(ControlError{});
};

// Parses and validates one line (without its "\n") against the schema.
ParsedLine parse_request(std::string_view line);

// Serialisation. Bytes that are not UTF-8 (a file name, a firmware version, a
// URC, a parse error quoting the request) become `\xHH` (json_text.hpp),
// never thrown on. Every line ends with "\n".
std::string to_line(const nlohmann::json& message);
std::string greeting_line(std::string_view version, std::string_view model);
std::string return_line(const nlohmann::json& value, const std::optional<nlohmann::json>& id);
std::string error_line(const ControlError& error, const std::optional<nlohmann::json>& id);
// An event as the module emitted it; adds "timestamp" (now) and "data" ({})
// when missing.
std::string event_line(nlohmann::json event);
nlohmann::json timestamp_now();

}  // namespace vmodem::sim::control
