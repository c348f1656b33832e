#include "control/protocol.hpp"

#include <chrono>

#include "json_text.hpp"

namespace vmodem::sim::control {

namespace {

using nlohmann::json;

ControlError generic(std::string desc) {
  return {std::string(kGenericError), std::move(desc)};
}

// Bracket depth outside strings; stops counting once past the limit.
bool too_deep(std::string_view line) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : line) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

ParsedLine parse_request(std::string_view line) {
  ParsedLine out;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (blank(line)) {
    out.empty = true;
    return out;
  }
  if (too_deep(line)) {
    out.request = tl::unexpected(
        generic("JSON nested deeper than " + std::to_string(kMaxNesting) + " levels"));
    return out;
  }
  json message;
  try {
    message = json::parse(line);
  } catch (const json::exception& e) {
    // The library's text says where parsing stopped; keep it for the client.
    out.request = tl::unexpected(generic(std::string("JSON parse error: ") + e.what()));
    return out;
  }
  if (!message.is_object()) {
    out.request = tl::unexpected(generic("expected a JSON object like {\"execute\":\"status\"}"));
    return out;
  }
  if (const auto id = message.find("id"); id != message.end()) out.id = *id;
  for (const auto& [key, value] : message.items()) {
    if (key != "execute" && key != "arguments" && key != "id") {
      out.request = tl::unexpected(generic("unexpected member '" + key + "'"));
      return out;
    }
  }
  const auto execute = message.find("execute");
  if (execute == message.end() || !execute->is_string()) {
    out.request = tl::unexpected(generic("member 'execute' must be a string naming a command"));
    return out;
  }
  const auto& name = execute->get_ref<const std::string&>();
  const CommandSpec* command = find_command(name);
  if (!command) {
    out.request = tl::unexpected(
        ControlError{std::string(kCommandNotFound),
                     "command '" + name + "' not found (query-commands lists them)"});
    return out;
  }
  json arguments = json::object();
  if (const auto args = message.find("arguments"); args != message.end()) arguments = *args;
  if (auto valid = validate_arguments(*command, arguments); !valid) {
    out.request = tl::unexpected(valid.error());
    return out;
  }
  if (arguments.is_null()) arguments = json::object();
  out.request = Request{command, std::move(arguments)};
  return out;
}

std::string to_line(const json& message) {
  // Results and events carry file names, versions and URC text: bytes a host
  // or a file chose (json_text.hpp has the convention).
  return json_safe(message).dump() + "\n";
}

std::string greeting_line(std::string_view version, std::string_view model) {
  return to_line(
      {{"vmodem", {{"version", version}, {"model", model}}}, {"capabilities", json::array()}});
}

std::string return_line(const json& value, const std::optional<json>& id) {
  json reply = {{"return", value.is_null() ? json::object() : value}};
  if (id) reply["id"] = *id;
  return to_line(reply);
}

std::string error_line(const ControlError& error, const std::optional<json>& id) {
  json reply = {{"error", {{"class", error.error_class}, {"desc", error.desc}}}};
  if (id) reply["id"] = *id;
  return to_line(reply);
}

json timestamp_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return {{"seconds", micros / 1'000'000}, {"microseconds", micros % 1'000'000}};
}

std::string event_line(json event) {
  if (!event.is_object()) event = {{"event", "UNKNOWN"}, {"data", std::move(event)}};
  if (!event.contains("data")) event["data"] = json::object();
  if (!event.contains("timestamp")) event["timestamp"] = timestamp_now();
  return to_line(event);
}

}  // namespace vmodem::sim::control
