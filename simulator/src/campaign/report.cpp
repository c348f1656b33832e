// The campaign report as JSON (runner.hpp; README documents the fields).
#include <cstdio>

#include "campaign/runner.hpp"
#include "json_text.hpp"

namespace vmodem::sim::campaign {

namespace {

using nlohmann::json;

json cut_json(const CutRecord& cut, const std::string& report_path) {
  json out = {{"id", cut.point.id()},
              {"operation", cut.point.operation},
              {"mode", std::string(nand::to_string(cut.point.mode))},
              {"step", cut.step},
              {"outcome", cut.outcome},
              {"failed", cut.failed},
              {"replay", "vmodem campaign replay " + report_path + " --cut " + cut.point.id()}};
  if (!cut.fault.is_null()) {
    out["op"] = cut.fault.value("op", "");
    out["block"] = cut.fault.value("block", 0U);
    out["page"] = cut.fault.value("page", 0U);
    out["torn"] = cut.fault.value("cut", "");
    out["partition"] = cut.partition;
  }
  if (!cut.detail.empty()) out["detail"] = cut.detail;
  if (!cut.note.empty()) out["note"] = cut.note;
  if (!cut.transcript.empty()) {
    json lines = json::array();
    for (const auto& line : cut.transcript)
      lines.push_back(json_text(line));
    out["transcript"] = std::move(lines);
  }
  return out;
}

}  // namespace

json to_json(const Report& report, const std::string& report_path) {
  json steps = json::array();
  for (const auto& step : report.steps) {
    steps.push_back({{"step", json_text(step.label)},
                     {"first_operation", step.first},
                     {"last_operation", step.last}});
  }
  json tally = json::object();
  for (const auto& [outcome, n] : report.result.tally)
    tally[outcome] = n;
  json cuts = json::array();
  for (const auto& cut : report.cuts)
    cuts.push_back(cut_json(cut, report_path));
  return {{"vmodem_campaign_report", 1},
          {"scenario", report.scenario.string()},
          {"profile", report.profile},
          // A string: 64-bit seeds lose digits in parsers that read doubles.
          {"seed", std::to_string(report.seed)},
          {"power_loss_mode", report.safe_power_loss ? "safe" : "real"},
          {"operations", report.operations},
          {"steps", std::move(steps)},
          {"planned", report.planned},
          {"cuts", report.result.cuts},
          {"not_reached", report.result.not_reached},
          {"failed", report.result.failed},
          {"seconds", report.seconds},
          {"tally", std::move(tally)},
          {"results", std::move(cuts)}};
}

std::string summary(const Report& report) {
  const double rate =
      report.seconds > 0 ? static_cast<double>(report.result.cuts) / report.seconds : 0;
  char text[256];
  std::snprintf(text, sizeof text,
                "%llu cuts of %llu operations, %llu failed, %.1f s (%.0f cuts/s), seed %llu",
                static_cast<unsigned long long>(report.result.cuts),
                static_cast<unsigned long long>(report.operations),
                static_cast<unsigned long long>(report.result.failed), report.seconds, rate,
                static_cast<unsigned long long>(report.seed));
  return text;
}

}  // namespace vmodem::sim::campaign
