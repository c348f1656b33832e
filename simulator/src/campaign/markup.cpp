#include "campaign/markup.hpp"

#include <cstdint>

#include "json_text.hpp"

namespace vmodem::sim::campaign {

std::string markup_text(std::string_view bytes, bool attribute) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const std::string text = json_text(bytes);  // UTF-8 from here on
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&#39;";
        continue;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        continue;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        continue;
      default:
        break;
    }
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF): not characters in XML.
    const bool nonchar = c == 0xEF && i + 2 < text.size() &&
                         static_cast<std::uint8_t>(text[i + 1]) == 0xBF &&
                         (static_cast<std::uint8_t>(text[i + 2]) & 0xFE) == 0xBE;
    if (nonchar) {
      out += static_cast<std::uint8_t>(text[i + 2]) == 0xBE ? "\\uFFFE" : "\\uFFFF";
      i += 2;
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

}  // namespace vmodem::sim::campaign
