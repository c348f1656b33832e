#include "quecpython/checksum_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

namespace vmodem::sim::quecpython {

namespace {

using nlohmann::json;

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// A CRC-32 written as a number, or as hex text with or without "0x".
std::optional<std::uint32_t> crc_of(const json& value) {
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(n);
  }
  if (!value.is_string()) return std::nullopt;
  std::string_view text = value.get_ref<const std::string&>();
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::uint32_t crc = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), crc, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return crc;
}

json parse(std::span<const std::uint8_t> bytes) {
  return json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
}

// Never throws: a name that is not UTF-8 cannot get here through parse(),
// and one from elsewhere is written with U+FFFD rather than aborting a boot.
std::string dump(const json& value, int indent = -1) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

// The boot reads checksum.json at every power-on, and a DOM parse of a
// 200-entry list costs more than checking the files' CRCs. This reads the
// plain form (what serialize_checksum_list and Quectel's tool write: ASCII
// names without escapes, decimal CRCs, the two keys once each, any
// whitespace) and gives up — nullopt — on anything else, which the full
// parser then reads: the list it returns is the one the full parser would.
class PlainList {
  // What each byte is inside a plain string: printable ASCII but the quote
  // and the backslash, the closing quote, or anything else (escapes,
  // control bytes, UTF-8), which sends the list to the full parser. One
  // load per byte: the boot reads every name of the list.
  enum ByteClass : std::uint8_t { kOther, kPlain, kQuote };
  static constexpr std::array<ByteClass, 256> kNameByte = [] {
    std::array<ByteClass, 256> table{};
    for (int c = 0x20; c < 0x7f; ++c)
      table[static_cast<std::size_t>(c)] = kPlain;
    table['"'] = kQuote;
    table['\\'] = kOther;
    return table;
  }();

 public:
  explicit PlainList(std::span<const std::uint8_t> bytes)
      : p_(bytes.data()), end_(p_ + bytes.size()) {}

  std::optional<ChecksumList> parse() {
    ChecksumList list;
    // An entry takes at least 20 bytes ({"name":"/usr/x","crc32":0}).
    list.reserve(static_cast<std::size_t>(end_ - p_) / 20);
    if (!take('[')) return std::nullopt;
    if (take(']')) return end() ? std::optional(std::move(list)) : std::nullopt;
    do {
      auto entry = object();
      if (!entry) return std::nullopt;
      list.push_back(std::move(*entry));
    } while (take(','));
    if (!take(']') || !end()) return std::nullopt;
    return list;
  }

 private:
  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }
  bool take(char c) {
    space();
    if (p_ == end_ || *p_ != static_cast<std::uint8_t>(c)) return false;
    ++p_;
    return true;
  }
  bool end() {
    space();
    return p_ == end_;
  }
  // A string of printable ASCII without escapes.
  std::optional<std::string_view> string() {
    if (!take('"')) return std::nullopt;
    const auto* start = p_;
    while (p_ < end_ && kNameByte[*p_] == kPlain)
      ++p_;
    if (p_ == end_ || kNameByte[*p_] != kQuote) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(start),
                            static_cast<std::size_t>(p_++ - start));
  }
  std::optional<std::uint32_t> number() {
    space();
    if (end_ - p_ > 1 && p_[0] == '0' && p_[1] >= '0' && p_[1] <= '9') return std::nullopt;
    std::uint64_t n = 0;
    int digits = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9' && digits < 11) {
      n = n * 10 + (*p_++ - '0');
      ++digits;
    }
    // No sign, fraction, exponent or leading zero: JSON's plain integers.
    if (digits == 0 || digits > 10 || n > 0xffffffffu) return std::nullopt;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return std::nullopt;
    return static_cast<std::uint32_t>(n);
  }
  std::optional<ChecksumEntry> object() {
    if (!take('{')) return std::nullopt;
    std::optional<std::string_view> name;
    std::optional<std::uint32_t> crc;
    do {
      const auto key = string();
      if (!key || !take(':')) return std::nullopt;
      if (*key == "name" && !name) {
        name = string();
        if (!name) return std::nullopt;
      } else if (*key == "crc32" && !crc) {
        crc = number();
        if (!crc) return std::nullopt;
      } else {
        return std::nullopt;  // another key, or one twice: the full parser decides
      }
    } while (take(','));
    if (!take('}') || !name || !crc || !valid_name(*name)) return std::nullopt;
    return ChecksumEntry{std::string(*name), *crc};
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace

tl::expected<ChecksumList, std::string> parse_checksum_list(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kChecksumMaxBytes) {
    return tl::unexpected("larger than " + std::to_string(kChecksumMaxBytes) +
                          " bytes (QuecPython reads no more)");
  }
  if (auto plain = PlainList(bytes).parse()) return std::move(*plain);
  const json doc = parse(bytes);
  if (doc.is_discarded()) return tl::unexpected(std::string("not JSON"));
  if (!doc.is_array()) return tl::unexpected(std::string("not a JSON list"));
  ChecksumList list;
  list.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const json& item = doc[i];
    const std::string at = "entry " + std::to_string(i) + ": ";
    if (!item.is_object() || !item.contains("name") || !item.contains("crc32"))
      return tl::unexpected(at + "expected {\"name\": ..., \"crc32\": ...}");
    const json& name = item["name"];
    if (!name.is_string() || !fs_path_of(name.get_ref<const std::string&>()))
      return tl::unexpected(at + "name is not a path under /usr");
    const auto crc = crc_of(item["crc32"]);
    if (!crc) return tl::unexpected(at + "crc32 is not a 32-bit number or hex string");
    list.push_back({name.get<std::string>(), *crc});
  }
  return list;
}

std::string serialize_checksum_list(const ChecksumList& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    out += i ? ",\n " : "\n ";
    // "name" first, as Quectel's checker writes it.
    nlohmann::ordered_json entry;
    entry["name"] = list[i].name;
    entry["crc32"] = list[i].crc32;
    out += entry.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out += list.empty() ? "]\n" : "\n]\n";
  return out;
}

ChecksumEntry* find_entry(ChecksumList& list, std::string_view name) {
  for (ChecksumEntry& entry : list) {
    if (same_ignoring_case(entry.name, name)) return &entry;
  }
  return nullptr;
}

bool valid_name(std::string_view name) {
  if (!name.starts_with(kUserPrefix)) return false;
  std::string_view rest = name.substr(kUserPrefix.size());
  if (rest.size() < 2 || rest.front() != '/') return false;
  // Every component must be a plain name: no empty, ".", ".." or NUL. One
  // pass over the bytes (the boot checks every name of the list).
  std::size_t part_start = 1;
  for (std::size_t i = 1; i <= rest.size(); ++i) {
    if (i < rest.size() && rest[i] != '/') {
      if (rest[i] == '\0') return false;
      continue;
    }
    const std::string_view part = rest.substr(part_start, i - part_start);
    if (part.empty() || part == "." || part == "..") return false;
    part_start = i + 1;
  }
  return true;
}

std::optional<std::string> fs_path_of(std::string_view name) {
  if (!valid_name(name)) return std::nullopt;
  return std::string(name.substr(kUserPrefix.size()));
}

std::string name_of(std::string_view fs_path) {
  return std::string(kUserPrefix) + std::string(fs_path);
}

tl::expected<bool, std::string> parse_enable(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kChecksumMaxBytes) return tl::unexpected(std::string("too large"));
  const json doc = parse(bytes);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("enable"))
    return tl::unexpected(std::string("expected {\"enable\": true|false}"));
  const json& enable = doc["enable"];
  if (enable.is_boolean()) return enable.get<bool>();
  if (enable.is_number_unsigned() && enable.get<std::uint64_t>() <= 1)
    return enable.get<std::uint64_t>() == 1;
  return tl::unexpected(std::string("\"enable\" is not true, false, 1 or 0"));
}

std::string serialize_enable(bool enable) {
  return dump(json{{"enable", enable}}) + "\n";
}

}  // namespace vmodem::sim::quecpython
