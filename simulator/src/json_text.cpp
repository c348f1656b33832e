#include "json_text.hpp"

#include <cstdint>

namespace vmodem::sim {

namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const std::uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t n = utf8_sequence_length(bytes);
    if (n == 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

std::string json_text(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const std::size_t n = utf8_sequence_length(bytes);
    if (n > 0) {
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      continue;
    }
    const auto b = static_cast<std::uint8_t>(bytes.front());
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
    bytes.remove_prefix(1);
  }
  return out;
}

nlohmann::json json_safe(nlohmann::json value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!is_valid_utf8(text)) value = json_text(text);
  } else if (value.is_array()) {
    for (auto& element : value)
      element = json_safe(std::move(element));
  } else if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [key, member] : value.items())
      out[json_text(key)] = json_safe(std::move(member));
    value = std::move(out);
  }
  return value;
}

}  // namespace vmodem::sim
