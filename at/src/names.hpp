#pragma once

// Character classes of V.250 command names, shared by the parser and the
// registry so both agree on what a name is.

#include <string>
#include <string_view>

namespace vmodem::at::detail {

// The first letter of a command line (`AT`, `at`, `A/`).
inline bool is_a(char c) {
  return c == 'A' || c == 'a';
}

inline bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

inline std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = upper(c);
  return out;
}

// Prefixes of extended commands: `+` (V.250) and the vendor prefixes seen on
// cellular modules.
inline bool is_extended_prefix(char c) {
  return c == '+' || c == '$' || c == '^';
}

// V.250 §5.4.1: characters allowed after the first letter of an extended name.
inline bool is_extended_name_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '!' || c == '%' || c == '-' || c == '.' || c == '/' ||
         c == ':' || c == '_';
}

// Basic command letters other than D (dial) and S (S-parameters), which have
// their own syntax.
inline bool is_basic_letter(char c) {
  const char u = upper(c);
  return is_alpha(c) && u != 'D' && u != 'S';
}

// A name as the parser reports it (upper case): "+CMEE", "E", "&F", "S3", "D".
inline bool is_command_name(std::string_view name) {
  if (name.empty()) return false;
  if (is_extended_prefix(name[0])) {
    if (name.size() < 2 || !is_alpha(name[1])) return false;
    for (char c : name.substr(2)) {
      if (!is_extended_name_char(c)) return false;
    }
    return true;
  }
  if (name == "D") return true;
  if (name[0] == 'S') {
    if (name.size() < 2) return false;
    for (char c : name.substr(1)) {
      if (!is_digit(c)) return false;
    }
    return true;
  }
  if (name[0] == '&') return name.size() == 2 && is_alpha(name[1]);
  return name.size() == 1 && is_basic_letter(name[0]);
}

}  // namespace vmodem::at::detail
