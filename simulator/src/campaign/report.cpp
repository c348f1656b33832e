// The campaign report as JSON and back (report.hpp; README documents the
// fields), its summary line and how outcomes are classed.
#include "campaign/report.hpp"

#include <algorithm>
#include <cstdio>

#include "json_text.hpp"

namespace vmodem::sim::campaign {

namespace {

using nlohmann::json;

constexpr int kReportVersion = 2;

json cut_json(const CutRecord& cut, const std::string& report_path) {
  json out = {{"id", cut.point.id()},
              {"operation", cut.point.operation},
              {"mode", std::string(nand::to_string(cut.point.mode))},
              {"step", cut.step},
              {"outcome", json_text(cut.outcome)},
              {"failed", cut.failed},
              {"replay", json_text(replay_command(report_path, cut))}};
  if (!cut.fault.is_null()) {
    out["op"] = json_text(cut.fault.value("op", ""));
    out["block"] = cut.fault.value("block", 0U);
    out["page"] = cut.fault.value("page", 0U);
    out["torn"] = json_text(cut.fault.value("cut", ""));
    out["partition"] = json_text(cut.partition);
  }
  if (cut.point.nested()) {
    out["boot_operation"] = cut.point.boot_operation;
    out["boot_mode"] = std::string(nand::to_string(cut.point.boot_mode));
    if (!cut.boot_fault.is_null()) {
      out["boot_fault"] = {{"op", json_text(cut.boot_fault.value("op", ""))},
                           {"block", cut.boot_fault.value("block", 0U)},
                           {"page", cut.boot_fault.value("page", 0U)},
                           {"torn", json_text(cut.boot_fault.value("cut", ""))}};
    }
  }
  if (!cut.detail.empty()) out["detail"] = json_text(cut.detail);
  if (!cut.note.empty()) out["note"] = json_text(cut.note);
  if (!cut.transcript.empty()) {
    json lines = json::array();
    for (const auto& line : cut.transcript)
      lines.push_back(json_text(line));
    out["transcript"] = std::move(lines);
  }
  return out;
}

// Reads fields of one JSON object; the first one missing or of the wrong
// type is the error ("results[3].outcome: expected a string").
class Fields {
 public:
  Fields(const json& object, std::string where) : j_(object), where_(std::move(where)) {
    if (!j_.is_object()) fail("", "expected an object");
  }
  template <typename T>
  T get(const char* key, T fallback = T{}, bool required = true) {
    if (!error_.empty()) return fallback;
    if (!j_.contains(key)) {
      if (required) fail(key, "missing");
      return fallback;
    }
    const json& v = j_[key];
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) return fail(key, "expected a string"), fallback;
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) return fail(key, "expected true or false"), fallback;
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) return fail(key, "expected a number"), fallback;
    } else {
      if (!v.is_number_unsigned()) return fail(key, "expected a non-negative integer"), fallback;
    }
    return v.get<T>();
  }
  const json& array(const char* key, bool required = true) {
    static const json empty = json::array();
    if (!error_.empty()) return empty;
    if (!j_.contains(key)) {
      if (required) fail(key, "missing");
      return empty;
    }
    if (!j_[key].is_array()) return fail(key, "expected an array"), empty;
    return j_[key];
  }
  void fail(const std::string& key, const std::string& message) {
    if (error_.empty())
      error_ = (where_.empty() ? key : key.empty() ? where_ : where_ + "." + key) + ": " + message;
  }
  void absorb(const std::string& error) {
    if (error_.empty()) error_ = error;
  }
  const std::string& error() const { return error_; }

 private:
  const json& j_;
  std::string where_;
  std::string error_;
};

std::optional<std::uint64_t> number(const std::string& text) {
  std::uint64_t n = 0;
  if (text.empty()) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  return n;
}

std::optional<CutRecord> cut_from_json(const json& j, const std::string& where, Fields& top) {
  Fields f(j, where);
  CutRecord cut;
  const std::string id = f.get<std::string>("id");
  const auto point = nand::campaign::CutPoint::parse(id);
  if (f.error().empty() && !point)
    f.fail("id", "expected OPERATION@MODE[/OPERATION@MODE], got \"" + id + "\"");
  cut.point = point.value_or(nand::campaign::CutPoint{});
  cut.outcome = f.get<std::string>("outcome");
  cut.failed = f.get<bool>("failed");
  cut.step = f.get<std::size_t>("step");
  cut.detail = f.get<std::string>("detail", {}, false);
  cut.note = f.get<std::string>("note", {}, false);
  if (j.is_object() && j.contains("op")) {
    cut.fault = {{"op", f.get<std::string>("op")},
                 {"block", f.get<std::uint32_t>("block")},
                 {"page", f.get<std::uint32_t>("page")},
                 {"cut", f.get<std::string>("torn")}};
    cut.partition = f.get<std::string>("partition");
  }
  for (const auto& line : f.array("transcript", false)) {
    if (!line.is_string()) f.fail("transcript", "expected strings");
    if (!f.error().empty()) break;
    cut.transcript.push_back(line.get<std::string>());
  }
  top.absorb(f.error());
  if (!f.error().empty()) return std::nullopt;
  return cut;
}

tl::expected<void, std::string> read_plan(const json& j, Report& r) {
  Fields f(j, "");
  const std::string seed = f.get<std::string>("seed");
  const std::string mode = f.get<std::string>("power_loss_mode");
  const std::string shard = f.get<std::string>("shard");
  if (!f.error().empty()) return tl::unexpected(f.error());
  if (!number(seed)) return tl::unexpected("seed: expected a decimal number, got \"" + seed + "\"");
  r.seed = *number(seed);
  if (mode != "real" && mode != "safe")
    return tl::unexpected("power_loss_mode: expected real or safe, got \"" + mode + "\"");
  r.safe_power_loss = mode == "safe";
  const auto slash = shard.find('/');
  const auto i = number(shard.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : number(shard.substr(slash + 1));
  if (!i || !n || *i < 1 || *i > *n || *n > UINT32_MAX)
    return tl::unexpected("shard: expected I/N with 1 <= I <= N, got \"" + shard + "\"");
  r.shard = {static_cast<std::uint32_t>(*i - 1), static_cast<std::uint32_t>(*n)};
  for (const auto& name : f.array("cut_modes")) {
    const auto m = name.is_string() ? nand::campaign::cut_mode_from_string(name.get<std::string>())
                                    : std::nullopt;
    if (!m) return tl::unexpected("cut_modes: expected cut mode names, got " + name.dump());
    r.modes.push_back(*m);
  }
  return {};
}

}  // namespace

std::string replay_command(const std::string& report_path, const CutRecord& cut) {
  return "vmodem campaign replay " + report_path + " --cut " + cut.point.id();
}

json to_json(const Report& report, const std::string& report_path) {
  json steps = json::array();
  for (const auto& step : report.steps) {
    steps.push_back({{"step", json_text(step.label)},
                     {"first_operation", step.first},
                     {"last_operation", step.last}});
  }
  json tally = json::object();
  for (const auto& [outcome, n] : report.result.tally)
    tally[json_text(outcome)] = n;
  json cuts = json::array();
  for (const auto& cut : report.cuts)
    cuts.push_back(cut_json(cut, report_path));
  json modes = json::array();
  for (const auto mode : report.modes)
    modes.push_back(std::string(nand::to_string(mode)));
  return {
      {"vmodem_campaign_report", kReportVersion},
      {"scenario", json_text(report.scenario.string())},
      {"scenario_sha256", report.digest},
      {"profile", json_text(report.profile)},
      // A string: 64-bit seeds lose digits in parsers that read doubles.
      {"seed", std::to_string(report.seed)},
      {"power_loss_mode", report.safe_power_loss ? "safe" : "real"},
      {"cut_modes", std::move(modes)},
      {"sample", report.sample},
      {"shard", std::to_string(report.shard.index + 1) + "/" +
                    std::to_string(std::max<std::uint32_t>(report.shard.count, 1))},
      {"partial", report.partial()},
      {"operations", report.operations},
      {"steps", std::move(steps)},
      {"planned", report.planned},
      {"cuts", report.result.cuts},
      {"not_reached", report.result.not_reached},
      {"failed", report.result.failed},
      {"power_ups", report.power_ups},
      {"seconds", report.seconds},
      {"tally", std::move(tally)},
      {"wear",
       {{"erase_counts_before", report.wear.before}, {"erase_counts_after", report.wear.after}}},
      {"results", std::move(cuts)}};
}

tl::expected<Report, std::string> report_from_json(const json& j) {
  if (!j.is_object() || !j.contains("vmodem_campaign_report"))
    return tl::unexpected(std::string("not a report of vmodem campaign run --json"));
  if (j["vmodem_campaign_report"] != kReportVersion) {
    return tl::unexpected("vmodem_campaign_report: this vmodem reads version " +
                          std::to_string(kReportVersion) + ", got " +
                          j["vmodem_campaign_report"].dump());
  }
  Report r;
  Fields f(j, "");
  r.scenario = f.get<std::string>("scenario");
  r.digest = f.get<std::string>("scenario_sha256");
  r.profile = f.get<std::string>("profile");
  r.sample = f.get<std::uint32_t>("sample");
  r.result.stopped = f.get<bool>("partial");
  r.operations = f.get<std::uint64_t>("operations");
  r.result.operations = r.operations;
  r.planned = f.get<std::uint64_t>("planned");
  r.result.cuts = f.get<std::uint64_t>("cuts");
  r.result.not_reached = f.get<std::uint64_t>("not_reached");
  r.result.failed = f.get<std::uint64_t>("failed");
  r.seconds = f.get<double>("seconds");
  // Absent from the reports of vmodem before it counted them.
  r.power_ups = f.get<std::uint64_t>("power_ups", 0, /*required=*/false);
  if (!f.error().empty()) return tl::unexpected(f.error());
  if (auto plan = read_plan(j, r); !plan) return tl::unexpected(plan.error());
  for (std::size_t i = 0; const auto& s : f.array("steps")) {
    Fields step(s, "steps[" + std::to_string(i++) + "]");
    r.steps.push_back({step.get<std::string>("step"), step.get<std::uint64_t>("first_operation"),
                       step.get<std::uint64_t>("last_operation")});
    f.absorb(step.error());
  }
  if (!j["tally"].is_object()) f.fail("tally", "expected an object");
  for (const auto& [outcome, n] : j["tally"].items()) {
    if (!n.is_number_unsigned()) f.fail("tally", "expected counts");
    if (f.error().empty()) r.result.tally[outcome] = n.get<std::uint64_t>();
  }
  for (std::size_t i = 0; const auto& c : f.array("results")) {
    auto cut = cut_from_json(c, "results[" + std::to_string(i++) + "]", f);
    if (!cut) break;
    if (cut->failed && r.result.failures.size() < 64)
      r.result.failures.push_back({cut->point.id(), cut->outcome, cut->detail});
    r.cuts.push_back(std::move(*cut));
  }
  if (j.contains("wear") && j["wear"].is_object()) {
    const json& w = j["wear"];
    for (const auto& [key, out] : {std::pair{"erase_counts_before", &r.wear.before},
                                   {"erase_counts_after", &r.wear.after}}) {
      if (!w.contains(key) || !w[key].is_array()) continue;
      for (const auto& n : w[key])
        out->push_back(n.is_number_unsigned() ? n.get<std::uint32_t>() : 0);
    }
  }
  if (!f.error().empty()) return tl::unexpected(f.error());
  return r;
}

OutcomeClass outcome_class(std::string_view outcome) {
  if (outcome.starts_with("failed")) return OutcomeClass::failed;
  if (outcome.find("rebuilt from factory") != std::string_view::npos) return OutcomeClass::rebuilt;
  if (outcome.find("recovered by restore") != std::string_view::npos) return OutcomeClass::restored;
  if (outcome.find("invalid") != std::string_view::npos) return OutcomeClass::backup_invalid;
  if (outcome.starts_with("new state")) return OutcomeClass::new_state;
  if (outcome.starts_with("old state")) return OutcomeClass::old_state;
  return OutcomeClass::between_steps;
}

std::string_view to_string(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::old_state:
      return "old state";
    case OutcomeClass::new_state:
      return "new state";
    case OutcomeClass::between_steps:
      return "between steps";
    case OutcomeClass::backup_invalid:
      return "backup invalid";
    case OutcomeClass::restored:
      return "recovered by restore";
    case OutcomeClass::rebuilt:
      return "rebuilt from factory";
    case OutcomeClass::failed:
      return "failed";
  }
  return "?";
}

std::string summary(const Report& report) {
  const double rate =
      report.seconds > 0 ? static_cast<double>(report.result.cuts) / report.seconds : 0;
  const auto second = static_cast<std::uint64_t>(std::count_if(
      report.cuts.begin(), report.cuts.end(), [](const CutRecord& c) { return c.point.nested(); }));
  std::string cuts = std::to_string(report.result.cuts) + " cuts";
  if (second > 0) {
    cuts += " (" + std::to_string(report.result.cuts - second) + " + " + std::to_string(second) +
            " in recovery boots)";
  }
  char text[256];
  std::snprintf(text, sizeof text,
                "%s of %llu operations, %llu failed, %.1f s (%.0f cuts/s), seed %llu", cuts.c_str(),
                static_cast<unsigned long long>(report.operations),
                static_cast<unsigned long long>(report.result.failed), report.seconds, rate,
                static_cast<unsigned long long>(report.seed));
  std::string out = text;
  if (report.shard.count > 1) {
    out += ", shard " + std::to_string(report.shard.index + 1) + "/" +
           std::to_string(report.shard.count);
  }
  if (report.partial()) {
    // `planned` counts first cuts.
    out += ", interrupted after " + std::to_string(report.result.cuts - second) + " of " +
           std::to_string(report.planned) + " planned";
  }
  return out;
}

}  // namespace vmodem::sim::campaign
