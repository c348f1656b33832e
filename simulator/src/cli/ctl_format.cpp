#include "cli/ctl_format.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>

namespace vmodem::cli {

namespace {

using nlohmann::json;

std::string scalar(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Members by name, tolerating any type (a newer server may differ).
std::string text(const json& object, const char* key, const std::string& fallback = "") {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

long long integer(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

json array(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : json::array();
}

bool all_scalars(const json& array) {
  for (const auto& element : array)
    if (element.is_structured()) return false;
  return true;
}

void format_value(std::ostringstream& out, const json& value, int indent);

void format_object(std::ostringstream& out, const json& object, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& [key, value] : object.items()) {
    if (value.is_object() && !value.empty()) {
      out << pad << key << ":\n";
      format_object(out, value, indent + 2);
    } else if (value.is_array() && !value.empty() && !all_scalars(value)) {
      out << pad << key << ":\n";
      format_value(out, value, indent + 2);
    } else if (value.is_array()) {
      std::string joined;
      for (const auto& element : value)
        joined += (joined.empty() ? "" : ", ") + scalar(element);
      out << pad << key << ": " << (joined.empty() ? "(none)" : joined) << "\n";
    } else {
      out << pad << key << ": " << (value.is_object() ? "{}" : scalar(value)) << "\n";
    }
  }
}

void format_value(std::ostringstream& out, const json& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (value.is_object()) {
    format_object(out, value, indent);
  } else if (value.is_array()) {
    for (const auto& element : value) {
      if (element.is_object()) {
        std::ostringstream item;
        format_object(item, element, indent + 2);
        std::string text = item.str();
        // "- " marks where each element starts.
        if (text.size() >= pad.size() + 2) text.replace(pad.size(), 2, "- ");
        out << text;
      } else {
        out << pad << "- " << scalar(element) << "\n";
      }
    }
  } else {
    out << pad << scalar(value) << "\n";
  }
}

std::string argument_line(const json& arg, const std::string& prefix) {
  std::string line = "    " + prefix + text(arg, "name") + " (" + text(arg, "type") +
                     (arg.contains("required") && arg["required"] == true ? ", required" : "") +
                     ")  " + text(arg, "description");
  if (arg.contains("allowed")) {
    std::string allowed;
    for (const auto& value : arg["allowed"])
      allowed += (allowed.empty() ? "" : "|") + scalar(value);
    line += " [" + allowed + "]";
  }
  return line + "\n";
}

}  // namespace

std::string format_return(std::string_view command, const json& value) {
  if (command == "query-commands" && value.is_array()) return format_commands(value);
  if (value.is_null() || (value.is_object() && value.empty())) return "ok\n";
  std::ostringstream out;
  format_value(out, value, 0);
  return out.str();
}

std::string format_commands(const json& commands) {
  std::ostringstream out;
  for (const auto& command : commands) {
    if (!command.is_object()) continue;
    out << text(command, "name") << "  " << text(command, "description") << "\n";
    for (const auto& arg : array(command, "arguments")) {
      out << argument_line(arg, "");
      for (const auto& field : array(arg, "fields"))
        out << argument_line(field, "  " + text(arg, "name") + ".");
    }
    out << "    returns: " << text(command, "returns") << "\n";
    const auto errors = array(command, "errors");
    if (!errors.empty()) {
      std::string joined;
      for (const auto& e : errors)
        joined += (joined.empty() ? "" : ", ") + scalar(e);
      out << "    errors: " << joined << "\n";
    }
  }
  return out.str();
}

std::string format_event(const json& event) {
  std::string when = "-";
  if (event.contains("timestamp") && event["timestamp"].is_object()) {
    const auto seconds = static_cast<std::time_t>(integer(event["timestamp"], "seconds"));
    const auto micros = integer(event["timestamp"], "microseconds");
    std::tm local{};
    char text[32];
    if (::localtime_r(&seconds, &local) &&
        std::strftime(text, sizeof(text), "%H:%M:%S", &local) > 0) {
      char fraction[16];
      std::snprintf(fraction, sizeof(fraction), ".%06lld", std::llabs(micros % 1'000'000));
      when = std::string(text) + fraction;
    }
  }
  std::string line = when + " " + text(event, "event", "?");
  if (event.contains("data") && event["data"].is_object()) {
    for (const auto& [key, value] : event["data"].items())
      line += " " + key + "=" + scalar(value);
  } else if (event.contains("data")) {
    line += " " + scalar(event["data"]);
  }
  return line + "\n";
}

}  // namespace vmodem::cli
