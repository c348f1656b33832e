// The NV settings document <-> NvValues (format: nv_settings.hpp).
#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "hex.hpp"
#include "json_text.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {

namespace {

using nlohmann::json;

constexpr std::string_view kCscsSets[] = {"GSM", "IRA", "UCS2"};
constexpr std::string_view kUrcPorts[] = {"usbat", "usbmodem", "uart1"};

json bytes_to_json(const std::string& bytes) {
  if (is_valid_utf8(bytes)) return bytes;
  return {{"hex", to_hex(bytes)}};
}

// Reads one field at a time; a value that does not validate is reported
// and left out, so the caller keeps that field's default.
class Reader {
 public:
  explicit Reader(std::vector<NvProblem>& problems) : problems_(problems) {}

  std::optional<int> integer(const json& value, const std::string& key, int min, int max) {
    if (!value.is_number_integer()) return wrong(key, "an integer", value);
    // Compared as 64-bit: a huge or negative number is out of range, not wrapped.
    const bool fits = value.is_number_unsigned()
                          ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max) &&
                                value.get<std::uint64_t>() >= static_cast<std::uint64_t>(min)
                          : value.get<std::int64_t>() >= min && value.get<std::int64_t>() <= max;
    if (!fits) {
      return report(key, "out of range " + std::to_string(min) + "-" + std::to_string(max));
    }
    return static_cast<int>(value.get<std::int64_t>());
  }

  std::optional<bool> boolean(const json& value, const std::string& key) {
    if (!value.is_boolean()) return wrong(key, "a boolean", value);
    return value.get<bool>();
  }

  // A byte string (nv_settings.hpp: a JSON string or {"hex": ...}).
  std::optional<std::string> bytes(const json& value, const std::string& key,
                                   std::size_t max_bytes) {
    std::optional<std::string> out;
    if (value.is_string()) {
      out = value.get<std::string>();
    } else if (value.is_object() && value.size() == 1 && value.contains("hex") &&
               value["hex"].is_string()) {
      out = from_hex(value["hex"].get_ref<const std::string&>());
      if (!out) return report(key, "\"hex\" needs pairs of hex digits");
    } else {
      return wrong(key, "a string or {\"hex\": ...}", value);
    }
    if (out->size() > max_bytes) {
      return report(key, "longer than " + std::to_string(max_bytes) + " bytes");
    }
    return out;
  }

  template <std::size_t N>
  std::optional<std::string> choice(const json& value, const std::string& key,
                                    const std::string_view (&allowed)[N]) {
    if (!value.is_string()) return wrong(key, "a string", value);
    const auto& text = value.get_ref<const std::string&>();
    if (std::find(std::begin(allowed), std::end(allowed), text) == std::end(allowed)) {
      std::string list;
      for (const auto name : allowed)
        list += (list.empty() ? "" : ", ") + std::string(name);
      return report(key, "not one of " + list);
    }
    return text;
  }

  bool object(const json& value, const std::string& key) {
    if (value.is_object()) return true;
    (void)wrong(key, "an object", value);
    return false;
  }

  std::nullopt_t report(const std::string& key, std::string reason) {
    problems_.push_back({key, std::move(reason)});
    return std::nullopt;
  }

 private:
  std::nullopt_t wrong(const std::string& key, const char* expected, const json& value) {
    return report(key, std::string("expected ") + expected + ", found " + value.type_name());
  }

  std::vector<NvProblem>& problems_;
};

template <typename T>
void assign(T& field, std::optional<T> value) {
  if (value) field = std::move(*value);
}

AtProfile read_profile(Reader& in, const json& value) {
  AtProfile out;
  for (const auto& [name, member] : value.items()) {
    const std::string key = "profile." + name;
    if (name == "echo") out.echo = in.boolean(member, key);
    if (name == "verbose") out.verbose = in.boolean(member, key);
    if (name == "quiet") out.quiet = in.boolean(member, key);
    if (name == "cmee") out.cmee = in.integer(member, key, 0, 2);
  }
  return out;
}

std::optional<int> parse_cid(std::string_view text) {
  int cid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cid);
  if (ec != std::errc() || end != text.data() + text.size() || cid < 1 || cid > kMaxCid)
    return std::nullopt;
  return cid;
}

PdpContext read_context(Reader& in, const json& value, const std::string& prefix) {
  PdpContext out;
  for (const auto& [name, member] : value.items()) {
    const std::string key = prefix + name;
    if (name == "type") assign(out.type, in.integer(member, key, 1, 3));
    if (name == "apn") assign(out.apn, in.bytes(member, key, kMaxApnBytes));
    if (name == "user") assign(out.user, in.bytes(member, key, kMaxPdpUserBytes));
    if (name == "password") assign(out.password, in.bytes(member, key, kMaxPdpPasswordBytes));
    if (name == "auth") assign(out.auth, in.integer(member, key, 0, 3));
  }
  return out;
}

void read_contexts(Reader& in, const json& value, std::map<int, PdpContext>& out) {
  if (!in.object(value, "contexts")) return;
  for (const auto& [name, context] : value.items()) {
    const std::string key = "contexts." + name;
    const auto cid = parse_cid(name);
    if (!cid) {
      in.report(key, "not a context id (1-" + std::to_string(kMaxCid) + ")");
      continue;
    }
    if (!in.object(context, key)) continue;
    out[*cid] = read_context(in, context, key + ".");
  }
}

SimNv read_sim(Reader& in, const json& value) {
  SimNv out;
  for (const auto& [name, member] : value.items()) {
    const std::string key = "sim." + name;
    if (name == "pin_enabled") out.pin_enabled = in.boolean(member, key);
    if (name == "pin") {
      auto pin = in.bytes(member, key, 8);
      if (pin && (pin->size() < 4 || pin->find_first_not_of("0123456789") != std::string::npos)) {
        pin = in.report(key, "expected 4 to 8 digits");
      }
      out.pin = std::move(pin);
    }
    if (name == "pin_retries") assign(out.pin_retries, in.integer(member, key, 0, kSimPinRetries));
    if (name == "puk_retries") assign(out.puk_retries, in.integer(member, key, 0, kSimPukRetries));
  }
  return out;
}

// One top-level key; false when this version does not know it.
bool read_key(Reader& in, const std::string& key, const json& value, NvValues& out) {
  if (key == "profile") {
    if (in.object(value, key)) out.profile = read_profile(in, value);
  } else if (key == "cscs") {
    assign(out.cscs, in.choice(value, key, kCscsSets));
  } else if (key == "contexts") {
    read_contexts(in, value, out.contexts);
  } else if (key == "urcport") {
    assign(out.urcport, in.choice(value, key, kUrcPorts));
  } else if (key == "ctzu") {
    assign(out.ctzu, in.integer(value, key, 0, 3));
  } else if (key == "sim") {
    if (in.object(value, key)) out.sim = read_sim(in, value);
  } else if (const QcfgItem* item = key.starts_with("qcfg/") ? find_qcfg(key.substr(5)) : nullptr) {
    if (const auto v = in.integer(value, key, item->min, item->max)) out.set_qcfg(item->id, *v);
  } else {
    return false;
  }
  return true;
}

}  // namespace

const QcfgItem* find_qcfg(std::string_view name) {
  const auto it = std::find_if(kQcfgItems.begin(), kQcfgItems.end(),
                               [name](const QcfgItem& item) { return item.name == name; });
  return it == kQcfgItems.end() ? nullptr : &*it;
}

NvDecoded decode_nv_settings(std::string_view text) {
  NvDecoded out;
  auto doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    out.problems.push_back(
        {"", doc.is_discarded() ? "not valid JSON" : std::string("not a JSON object")});
    return out;
  }
  Reader in(out.problems);
  for (auto& [key, value] : doc.items()) {
    if (!read_key(in, key, value, out.values)) out.unknown[key] = std::move(value);
  }
  return out;
}

std::string encode_nv_settings(const NvValues& values, const nlohmann::json& unknown) {
  json doc = unknown.is_object() ? unknown : json::object();
  if (values.profile) {
    json profile = json::object();
    const AtProfile& p = *values.profile;
    if (p.echo) profile["echo"] = *p.echo;
    if (p.verbose) profile["verbose"] = *p.verbose;
    if (p.quiet) profile["quiet"] = *p.quiet;
    if (p.cmee) profile["cmee"] = *p.cmee;
    doc["profile"] = std::move(profile);
  }
  doc["cscs"] = values.cscs;
  json contexts = json::object();
  for (const auto& [cid, c] : values.contexts) {
    contexts[std::to_string(cid)] = {{"type", c.type},
                                     {"apn", bytes_to_json(c.apn)},
                                     {"user", bytes_to_json(c.user)},
                                     {"password", bytes_to_json(c.password)},
                                     {"auth", c.auth}};
  }
  doc["contexts"] = std::move(contexts);
  for (const auto& item : kQcfgItems)
    doc["qcfg/" + std::string(item.name)] = values.qcfg_value(item.id);
  doc["urcport"] = values.urcport;
  doc["ctzu"] = values.ctzu;
  json sim = {{"pin_retries", values.sim.pin_retries}, {"puk_retries", values.sim.puk_retries}};
  if (values.sim.pin_enabled) sim["pin_enabled"] = *values.sim.pin_enabled;
  if (values.sim.pin) sim["pin"] = *values.sim.pin;  // digits (checked when read and set)
  doc["sim"] = std::move(sim);
  // Every string above is valid UTF-8 (bytes_to_json; choices from fixed
  // sets; unknown keys came out of a parse), so dump() cannot throw.
  return doc.dump();
}

}  // namespace vmodem::sim
