#include "quecpython/checksum_file.hpp"

#include <algorithm>
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

}  // namespace

tl::expected<ChecksumList, std::string> parse_checksum_list(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kChecksumMaxBytes) {
    return tl::unexpected("larger than " + std::to_string(kChecksumMaxBytes) +
                          " bytes (QuecPython reads no more)");
  }
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

std::optional<std::string> fs_path_of(std::string_view name) {
  if (!name.starts_with(kUserPrefix)) return std::nullopt;
  std::string_view rest = name.substr(kUserPrefix.size());
  if (rest.size() < 2 || rest.front() != '/') return std::nullopt;
  // Every component must be a plain name: no empty, ".", ".." or NUL.
  std::string_view tail = rest.substr(1);
  while (true) {
    const auto slash = tail.find('/');
    const std::string_view part = tail.substr(0, slash);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos)
      return std::nullopt;
    if (slash == std::string_view::npos) break;
    tail.remove_prefix(slash + 1);
  }
  return std::string(rest);
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
