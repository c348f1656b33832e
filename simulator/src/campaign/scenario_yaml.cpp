#include "campaign/scenario_yaml.hpp"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "json_text.hpp"

namespace vmodem::sim::campaign {

namespace {

using nlohmann::json;

bool one_of(const std::string& s, std::initializer_list<std::string_view> words) {
  for (const auto word : words)
    if (s == word) return true;
  return false;
}

bool digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// YAML 1.2 core schema, for a plain scalar; nullopt: a string.
std::optional<json> core_scalar(const std::string& s) {
  if (one_of(s, {"", "~", "null", "Null", "NULL"})) return json(nullptr);
  if (one_of(s, {"true", "True", "TRUE"})) return json(true);
  if (one_of(s, {"false", "False", "FALSE"})) return json(false);
  const std::string_view unsigned_part =
      std::string_view(s).substr(s[0] == '+' || s[0] == '-' ? 1 : 0);
  if (digits(unsigned_part)) {
    const char* last = s.data() + s.size();
    if (s[0] == '-') {
      std::int64_t v = 0;
      if (std::from_chars(s.data(), last, v).ec == std::errc()) return json(v);
    } else {
      std::uint64_t v = 0;
      if (std::from_chars(unsigned_part.data(), last, v).ec == std::errc()) return json(v);
    }
    return std::nullopt;  // out of range: a string, which the schema then refuses
  }
  // A decimal number with a fraction or an exponent (not inf or nan, not hex).
  if (unsigned_part.find_first_of("0123456789") != std::string_view::npos &&
      unsigned_part.find_first_not_of("0123456789.eE+-") == std::string_view::npos) {
    double v = 0;
    const char* last = s.data() + s.size();
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec == std::errc() && end == last && std::isfinite(v)) return json(v);
  }
  return std::nullopt;
}

std::string where(const YAML::Mark& mark) {
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

// Deep enough for any scenario; an alias cycle or a hostile nesting stops here.
constexpr int kMaxDepth = 64;
// Values and text after aliases are expanded: a scenario has hundreds of
// values and kilobytes of text; "billion laughs" (each level an alias list
// of the one before) would have 10^9 values and the memory to match
// (fuzz_scenario ran out of 4 GB before the count was capped), and a long
// string aliased a hundred thousand times hundreds of MB (it passed 2 GB
// before the text was capped too).
constexpr std::size_t kMaxValues = 100'000;
constexpr std::size_t kMaxTextBytes = 16U << 20;

struct Expanded {
  std::size_t values = 0;
  std::size_t text_bytes = 0;  // of scalars and keys
};

tl::expected<json, std::string> convert(const YAML::Node& node, int depth, Expanded& seen) {
  if (depth > kMaxDepth) return tl::unexpected(where(node.Mark()) + ": nested too deep");
  if (++seen.values > kMaxValues) {
    return tl::unexpected(where(node.Mark()) + ": more than " + std::to_string(kMaxValues) +
                          " values once aliases are expanded");
  }
  if (node.IsScalar() && (seen.text_bytes += node.Scalar().size()) > kMaxTextBytes) {
    return tl::unexpected(where(node.Mark()) + ": more than " +
                          std::to_string(kMaxTextBytes >> 20) +
                          " MB of text once aliases are expanded");
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar: {
      // yaml-cpp passes bytes that are not UTF-8 through; JSON text cannot
      // hold them (the report would not be written), and nlohmann's parser
      // refuses them in a JSON scenario too.
      if (!is_valid_utf8(node.Scalar()))
        return tl::unexpected(where(node.Mark()) + ": not UTF-8 text");
      // "!" marks a quoted (non-plain) scalar: always a string.
      if (node.Tag() == "?") {
        if (auto typed = core_scalar(node.Scalar())) return *typed;
      } else if (node.Tag() != "!" && node.Tag() != "tag:yaml.org,2002:str") {
        return tl::unexpected(where(node.Mark()) + ": tags (" + json_text(node.Tag()) +
                              ") are not read");
      }
      return json(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        auto value = convert(item, depth + 1, seen);
        if (!value) return value;
        out.push_back(std::move(*value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar())
          return tl::unexpected(where(entry.first.Mark()) + ": a key must be a plain name");
        const std::string& key = entry.first.Scalar();
        if (!is_valid_utf8(key))
          return tl::unexpected(where(entry.first.Mark()) + ": a key that is not UTF-8 text");
        if (out.contains(key))
          return tl::unexpected(where(entry.first.Mark()) + ": \"" + key + "\" given twice");
        seen.text_bytes += entry.first.Scalar().size();
        auto value = convert(entry.second, depth + 1, seen);
        if (!value) return value;
        out[key] = std::move(*value);
      }
      return out;
    }
  }
  return tl::unexpected(where(node.Mark()) + ": unreadable node");
}

}  // namespace

bool is_yaml_file(std::string_view file_name) {
  return file_name.ends_with(".yaml") || file_name.ends_with(".yml");
}

tl::expected<nlohmann::json, std::string> yaml_to_json(std::string_view text) {
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.size() != 1) {
      return tl::unexpected("expected one YAML document, found " +
                            std::to_string(documents.size()));
    }
    Expanded seen;
    return convert(documents.front(), 0, seen);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports malformed input by throwing: caught at this boundary.
    // Its message quotes the offending byte raw ("unknown escape character:
    // \xF3"): json_text() keeps the message UTF-8 for the JSON report.
    return tl::unexpected(where(e.mark) + ": " + json_text(e.msg));
  }
}

}  // namespace vmodem::sim::campaign
