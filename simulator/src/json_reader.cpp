#include "json_reader.hpp"

namespace vmodem::sim {

namespace {

// The value as the message quotes it: at most 40 bytes, cut between two
// UTF-8 characters (never inside one: the message goes into JSON replies
// and reports, which must stay UTF-8 — fuzz_scenario found the cut).
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() <= 40) return text;
  std::size_t cut = 37;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // a continuation byte: the character started before it
  return text.substr(0, cut) + "...";
}

}  // namespace

const nlohmann::json& JsonReader::empty_object() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

void JsonReader::fail(const std::string& key, const std::string& message) {
  if (!error_) error_ = FieldError{path_of(key), message};
}

void JsonReader::absorb(const JsonReader& child) {
  if (!error_ && child.error_) error_ = child.error_;
}

const nlohmann::json* JsonReader::get(const std::string& key, bool required) {
  seen_.insert(key);
  if (error_) return nullptr;
  if (!node_.is_object()) {
    fail("", "expected an object, got " + shown(node_));
    return nullptr;
  }
  const auto it = node_.find(key);
  if (it == node_.end()) {
    if (required) fail(key, "missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonReader::string(const std::string& key, const std::optional<std::string>& fallback) {
  const auto* value = get(key, !fallback);
  if (!value) return fallback.value_or("");
  if (!value->is_string()) {
    fail(key, "expected a string, got " + shown(*value));
    return {};
  }
  return value->get<std::string>();
}

std::uint64_t JsonReader::integer(const std::string& key, std::uint64_t min, std::uint64_t max,
                                  std::optional<std::uint64_t> fallback) {
  const auto* value = get(key, !fallback);
  if (!value) return fallback.value_or(min);
  if (!value->is_number_unsigned() || value->get<std::uint64_t>() < min ||
      value->get<std::uint64_t>() > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + shown(*value));
    return min;
  }
  return value->get<std::uint64_t>();
}

double JsonReader::number(const std::string& key, double min, double max,
                          std::optional<double> fallback) {
  const auto* value = get(key, !fallback);
  if (!value) return fallback.value_or(min);
  if (!value->is_number() || value->get<double>() < min || value->get<double>() > max) {
    fail(key, "expected a number from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + shown(*value));
    return min;
  }
  return value->get<double>();
}

bool JsonReader::boolean(const std::string& key, std::optional<bool> fallback) {
  const auto* value = get(key, !fallback);
  if (!value) return fallback.value_or(false);
  if (!value->is_boolean()) {
    fail(key, "expected true or false, got " + shown(*value));
    return false;
  }
  return value->get<bool>();
}

JsonReader JsonReader::object(const std::string& key, bool optional) {
  const auto* value = get(key, !optional);
  if (!value) return JsonReader(empty_object(), path_of(key));
  if (!value->is_object()) {
    fail(key, "expected an object, got " + shown(*value));
    return JsonReader(empty_object(), path_of(key));
  }
  return JsonReader(*value, path_of(key));
}

std::vector<JsonReader> JsonReader::array(const std::string& key) {
  std::vector<JsonReader> items;
  const auto* value = get(key, true);
  if (!value) return items;
  if (!value->is_array()) {
    fail(key, "expected an array, got " + shown(*value));
    return items;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    items.emplace_back((*value)[i], path_of(key) + "[" + std::to_string(i) + "]");
  }
  return items;
}

std::vector<std::uint64_t> JsonReader::integer_array(const std::string& key, std::uint64_t min,
                                                     std::uint64_t max) {
  std::vector<std::uint64_t> values;
  const auto* value = get(key, true);
  if (!value) return values;
  if (!value->is_array()) {
    fail(key, "expected an array of integers, got " + shown(*value));
    return values;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_number_unsigned() || item.get<std::uint64_t>() < min ||
        item.get<std::uint64_t>() > max) {
      fail(key + "[" + std::to_string(i) + "]", "expected an integer from " + std::to_string(min) +
                                                    " to " + std::to_string(max) + ", got " +
                                                    shown(item));
      return values;
    }
    values.push_back(item.get<std::uint64_t>());
  }
  return values;
}

std::vector<std::string> JsonReader::string_array(const std::string& key) {
  std::vector<std::string> values;
  const auto* value = get(key, true);
  if (!value) return values;
  if (!value->is_array()) {
    fail(key, "expected an array of strings, got " + shown(*value));
    return values;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) {
      fail(key + "[" + std::to_string(i) + "]", "expected a string, got " + shown(item));
      return values;
    }
    values.push_back(item.get<std::string>());
  }
  return values;
}

void JsonReader::finish(const std::string& schema) {
  if (error_ || !node_.is_object()) return;
  for (const auto& [key, value] : node_.items()) {
    if (!seen_.contains(key)) {
      fail(key, "unknown field (a typo? see " + schema + " for the schema)");
      return;
    }
  }
}

}  // namespace vmodem::sim
