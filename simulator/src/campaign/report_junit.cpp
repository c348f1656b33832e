// The campaign report as JUnit XML (report.hpp): what CI systems (GitLab,
// Jenkins, GitHub test reporters) show as tests. One <testcase> per
// verified cut, named by its id and the step in flight, its classname the
// scenario and the cut mode; a failure's body is what a person needs to
// reproduce it: the invariant, the detail, the transcript, the replay.
#include <cstdio>

#include "campaign/markup.hpp"
#include "campaign/report.hpp"

namespace vmodem::sim::campaign {

namespace {

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", s);
  return text;
}

void property(std::string& out, const std::string& name, const std::string& value) {
  out += "      <property name=\"" + markup_text(name, true) + "\" value=\"" +
         markup_text(value, true) + "\"/>\n";
}

std::string step_label(const Report& report, std::size_t step) {
  if (step == 0 || step > report.steps.size()) return "step " + std::to_string(step);
  return "step " + std::to_string(step) + ": " + report.steps[step - 1].label;
}

}  // namespace

std::string to_junit(const Report& report, const std::string& report_path) {
  // "cert-backup/scenario.json": the scenario's directory says which example.
  const std::string suite =
      (report.scenario.parent_path().filename() / report.scenario.filename()).string();
  const std::string cuts = std::to_string(report.result.cuts);
  const std::string failed = std::to_string(report.result.failed);
  const std::string time = seconds_text(report.seconds);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"vmodem campaign\" tests=\"" + cuts + "\" failures=\"" + failed +
         "\" errors=\"0\" time=\"" + time + "\">\n";
  out += "  <testsuite name=\"" + markup_text(suite, true) + "\" tests=\"" + cuts +
         "\" failures=\"" + failed + "\" errors=\"0\" skipped=\"0\" time=\"" + time + "\">\n";
  out += "    <properties>\n";
  property(out, "scenario", report.scenario.string());
  property(out, "scenario_sha256", report.digest);
  property(out, "profile", report.profile);
  property(out, "seed", std::to_string(report.seed));
  property(out, "power_loss_mode", report.safe_power_loss ? "safe" : "real");
  property(out, "operations", std::to_string(report.operations));
  property(out, "planned", std::to_string(report.planned));
  property(out, "not_reached", std::to_string(report.result.not_reached));
  property(out, "shard",
           std::to_string(report.shard.index + 1) + "/" + std::to_string(report.shard.count));
  property(out, "partial", report.partial() ? "true" : "false");
  out += "    </properties>\n";
  const std::string classname = markup_text(report.scenario.stem().string(), true);
  for (const CutRecord& cut : report.cuts) {
    const std::string step = step_label(report, cut.step);
    out += "    <testcase classname=\"" + classname + "." +
           std::string(nand::to_string(cut.point.mode)) + "\" name=\"" +
           markup_text(cut.point.id() + " (" + step + ")", true) + "\">\n";
    std::string where;
    if (!cut.fault.is_null()) {
      where = "cut at " + cut.fault.value("op", std::string()) + " of block " +
              std::to_string(cut.fault.value("block", 0U)) + " page " +
              std::to_string(cut.fault.value("page", 0U)) + " (" + cut.partition + ", " +
              cut.fault.value("cut", std::string()) + ")\n";
    }
    if (cut.failed) {
      out += "      <failure type=\"" + markup_text(cut.outcome, true) + "\" message=\"" +
             markup_text(cut.outcome + ": " + cut.detail, true) + "\">";
      std::string body = cut.outcome;
      body.append(": ").append(cut.detail).append("\n").append(step).append("\n").append(where);
      body.append("replay: ").append(replay_command(report_path, cut)).append("\n\ntranscript:\n");
      for (const auto& line : cut.transcript)
        body += "  " + line + "\n";
      out += markup_text(body) + "</failure>\n";
    } else {
      std::string text = cut.outcome + "\n" + where;
      if (!cut.note.empty()) text += "note: " + cut.note + "\n";
      text += "replay: " + replay_command(report_path, cut) + "\n";
      out += "      <system-out>" + markup_text(text) + "</system-out>\n";
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace vmodem::sim::campaign
