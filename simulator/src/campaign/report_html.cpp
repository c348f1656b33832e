// The campaign report as one self-contained HTML page (report.hpp): inline
// CSS and SVG, no script, no external resource — it reads the same with
// JavaScript off, attached to a CI run or mailed.
#include <algorithm>
#include <cstdio>
#include <map>

#include "campaign/markup.hpp"
#include "campaign/report.hpp"

namespace vmodem::sim::campaign {

namespace {

constexpr OutcomeClass kClasses[] = {OutcomeClass::old_state,     OutcomeClass::new_state,
                                     OutcomeClass::between_steps, OutcomeClass::backup_invalid,
                                     OutcomeClass::restored,      OutcomeClass::rebuilt,
                                     OutcomeClass::failed};
// Failures whose transcripts the page shows (the JSON report has them all).
constexpr std::size_t kShownFailures = 200;
// Rows of the table of blocks the action erased.
constexpr std::size_t kShownBlocks = 200;

constexpr double kLeft = 120, kPlot = 860, kRow = 22, kTop = 20;

const char* css_class(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::old_state:
      return "c-old";
    case OutcomeClass::new_state:
      return "c-new";
    case OutcomeClass::between_steps:
      return "c-mid";
    case OutcomeClass::backup_invalid:
      return "c-inv";
    case OutcomeClass::restored:
      return "c-res";
    case OutcomeClass::rebuilt:
      return "c-reb";
    case OutcomeClass::failed:
      return "c-fail";
  }
  return "c-mid";
}

// The colour of a class, as an SVG fill (an SVG cut out of the page keeps
// its colours) and as the swatches' background in the page's CSS.
const char* fill(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::old_state:
      return "#1f77b4";
    case OutcomeClass::new_state:
      return "#2ca02c";
    case OutcomeClass::between_steps:
      return "#17becf";
    case OutcomeClass::backup_invalid:
      return "#e6b800";
    case OutcomeClass::restored:
      return "#ff7f0e";
    case OutcomeClass::rebuilt:
      return "#9467bd";
    case OutcomeClass::failed:
      return "#d62728";
  }
  return "#17becf";
}

constexpr const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1100px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
td.n{text-align:right}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.partial{background:#fff3cd;border:1px solid #e0c060;padding:.5em}
.pass{color:#2a7a2a}.fail{color:#b02020;font-weight:bold}
svg text{font:11px sans-serif}
.c-old{background:#1f77b4}.c-new{background:#2ca02c}.c-mid{background:#17becf}
.c-inv{background:#e6b800}.c-res{background:#ff7f0e}.c-reb{background:#9467bd}
.c-fail{background:#d62728}.wear-old{background:#aaa}.wear-new{background:#ff7f0e}
</style>
)";

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  std::string s = text;
  if (s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

std::string e(std::string_view text) {
  return markup_text(text);
}
std::string anchor(const CutRecord& cut) {
  return "cut-" + std::to_string(cut.point.operation) + "-" +
         std::string(nand::to_string(cut.point.mode));
}

void facts(std::string& out, const Report& r) {
  auto row = [&](const char* name, const std::string& value) {
    out += "<tr><th>" + std::string(name) + "</th><td>" + e(value) + "</td></tr>\n";
  };
  std::string modes;
  for (const auto m : r.modes)
    modes += (modes.empty() ? "" : ", ") + std::string(nand::to_string(m));
  out += "<table>\n";
  row("scenario", r.scenario.string());
  row("scenario SHA-256", r.digest);
  row("profile", r.profile);
  row("seed", std::to_string(r.seed));
  row("power-loss mode", r.safe_power_loss ? "safe" : "real");
  row("cut modes", modes);
  row("sample", r.sample == 0 ? "every operation" : std::to_string(r.sample) + " operations");
  row("shard", std::to_string(r.shard.index + 1) + "/" + std::to_string(r.shard.count));
  row("operations of the action", std::to_string(r.operations));
  row("cuts planned / verified / not reached", std::to_string(r.planned) + " / " +
                                                   std::to_string(r.result.cuts) + " / " +
                                                   std::to_string(r.result.not_reached));
  row("failed", std::to_string(r.result.failed));
  row("seconds", num(r.seconds));
  out += "</table>\n";
}

void tally(std::string& out, const Report& r) {
  out += "<h2>Tally</h2>\n<table><tr><th>outcome</th><th>cuts</th><th>class</th></tr>\n";
  for (const auto& [outcome, n] : r.result.tally) {
    const OutcomeClass c = outcome_class(outcome);
    out += "<tr><td><span class=\"sw " + std::string(css_class(c)) + "\"></span>" + e(outcome) +
           "</td><td class=\"n\">" + std::to_string(n) + "</td><td>" + std::string(to_string(c)) +
           "</td></tr>\n";
  }
  out += "</table>\n";
}

// One row per cut mode, a tick per cut at its operation coloured by class;
// the steps as bands behind; failures as links to their transcripts.
void strip_plot(std::string& out, const Report& r) {
  out += "<h2>Outcome per NAND operation</h2>\n";
  if (r.operations == 0 || r.modes.empty()) {
    out += "<p>The action made no NAND operation.</p>\n";
    return;
  }
  const double ops = static_cast<double>(r.operations);
  const double tick = std::max(1.0, kPlot / ops);
  auto x = [&](std::uint64_t op) { return kLeft + (static_cast<double>(op) - 1) * kPlot / ops; };
  const double height = kTop + kRow * static_cast<double>(r.modes.size()) + 24;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kLeft + kPlot + 10) +
         "\" height=\"" + num(height) + "\" role=\"img\" aria-label=\"outcome per operation\">\n";
  const double rows = kRow * static_cast<double>(r.modes.size());
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const StepSpan& s = r.steps[i];
    if (s.last < s.first) continue;
    out += std::string("<rect fill=\"") + (i % 2 == 0 ? "#f2f2f2" : "#e0e0e0") + "\" x=\"" +
           num(x(s.first)) + "\" y=\"" + num(kTop - 14) + "\" width=\"" +
           num(x(s.last + 1) - x(s.first)) + "\" height=\"" + num(rows + 14) + "\"><title>" +
           e("step " + std::to_string(i + 1) + ": " + s.label) + "</title></rect>\n";
    if (x(s.last + 1) - x(s.first) >= 48) {  // a label where it fits; the title always
      out += "<text x=\"" + num(x(s.first) + 2) + "\" y=\"" + num(kTop - 3) + "\">step " +
             std::to_string(i + 1) + "</text>\n";
    }
  }
  for (std::size_t m = 0; m < r.modes.size(); ++m) {
    const double y = kTop + kRow * static_cast<double>(m) + 3;
    out += "<text x=\"4\" y=\"" + num(y + 12) + "\">" + std::string(nand::to_string(r.modes[m])) +
           "</text>\n";
    std::map<OutcomeClass, std::string> paths;
    std::string failures;
    for (const CutRecord& cut : r.cuts) {
      if (cut.point.mode != r.modes[m]) continue;
      const OutcomeClass c = outcome_class(cut.outcome);
      if (c == OutcomeClass::failed) {
        failures += "<a href=\"#" + anchor(cut) + "\"><rect fill=\"" + fill(c) + "\" x=\"" +
                    num(x(cut.point.operation)) + "\" y=\"" + num(y) + "\" width=\"" + num(tick) +
                    "\" height=\"" + num(kRow - 6) + "\"><title>" +
                    e(cut.point.id() + ": " + cut.outcome) + "</title></rect></a>\n";
        continue;
      }
      paths[c] += "M" + num(x(cut.point.operation)) + " " + num(y) + "h" + num(tick) + "v" +
                  num(kRow - 6) + "h-" + num(tick) + "z";
    }
    for (const auto& [c, d] : paths) {
      out += "<path fill=\"" + std::string(fill(c)) + "\" d=\"" + d + "\"><title>" +
             std::string(nand::to_string(r.modes[m])) + ": " + std::string(to_string(c)) +
             "</title></path>\n";
    }
    out += failures;
  }
  const double axis = kTop + rows + 14;
  for (int q = 0; q <= 4; ++q) {
    const auto op = std::max<std::uint64_t>(1, r.operations * static_cast<std::uint64_t>(q) / 4);
    out += "<text x=\"" + num(x(op)) + "\" y=\"" + num(axis) + "\"" +
           (q == 4 ? " text-anchor=\"end\"" : "") + ">" + std::to_string(op) + "</text>\n";
  }
  out += "</svg>\n<p>";
  for (const OutcomeClass c : kClasses) {
    out += "<span class=\"sw " + std::string(css_class(c)) + "\"></span>" +
           std::string(to_string(c)) + " &nbsp; ";
  }
  out += "<br>x: NAND operation of the action (1.." + std::to_string(r.operations) +
         "); a tick per cut; red ticks link to the failure.</p>\n<table><tr><th>step</th>"
         "<th>operations</th></tr>\n";
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const StepSpan& s = r.steps[i];
    out += "<tr><td>" + std::to_string(i + 1) + ": " + e(s.label) + "</td><td>" +
           (s.last < s.first ? std::string("none")
                             : std::to_string(s.first) + ".." + std::to_string(s.last)) +
           "</td></tr>\n";
  }
  out += "</table>\n";
}

void failing_operations(std::string& out, const Report& r) {
  out += "<h2>Failing operations</h2>\n";
  std::map<std::string, std::uint64_t> by_partition, by_kind;
  for (const CutRecord& cut : r.cuts) {
    if (!cut.failed) continue;
    ++by_partition[cut.partition.empty() ? "(unknown)" : cut.partition];
    ++by_kind[cut.fault.is_null() ? "(unknown)" : cut.fault.value("op", "(unknown)")];
  }
  if (by_partition.empty()) {
    out += "<p class=\"pass\">No cut failed.</p>\n";
    return;
  }
  for (const auto& [title, counts] : {std::pair{"partition", &by_partition}, {"kind", &by_kind}}) {
    out += "<table><tr><th>" + std::string(title) + "</th><th>failed cuts</th></tr>\n";
    for (const auto& [name, n] : *counts)
      out += "<tr><td>" + e(name) + "</td><td class=\"n\">" + std::to_string(n) + "</td></tr>\n";
    out += "</table>\n";
  }
}

void wear(std::string& out, const Report& r) {
  out += "<h2>Wear per block</h2>\n";
  const auto& before = r.wear.before;
  const auto& after = r.wear.after;
  if (after.empty() || before.size() != after.size()) {
    out += "<p>Not recorded.</p>\n";
    return;
  }
  const std::uint32_t top = std::max(1U, *std::max_element(after.begin(), after.end()));
  const double bar = kPlot / static_cast<double>(after.size());
  const double h = 80;
  std::string old_part, new_part;
  std::vector<std::size_t> erased;
  for (std::size_t b = 0; b < after.size(); ++b) {
    const double x = kLeft + static_cast<double>(b) * bar;
    const std::uint32_t was = std::min(before[b], after[b]);
    const double h_old = h * was / top;
    const double h_all = h * after[b] / top;
    if (was > 0) {
      old_part += "M" + num(x) + " " + num(10 + h - h_old) + "h" + num(std::max(bar, 0.5)) + "V" +
                  num(10 + h) + "h-" + num(std::max(bar, 0.5)) + "z";
    }
    if (after[b] > was) {
      new_part += "M" + num(x) + " " + num(10 + h - h_all) + "h" + num(std::max(bar, 1.0)) + "V" +
                  num(10 + h - h_old) + "h-" + num(std::max(bar, 1.0)) + "z";
      erased.push_back(b);
    }
  }
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kLeft + kPlot + 10) +
         "\" height=\"" + num(h + 30) + "\" role=\"img\" aria-label=\"erase count per block\">\n" +
         "<text x=\"4\" y=\"20\">" + std::to_string(top) + " erases</text>\n<text x=\"4\" y=\"" +
         num(10 + h) + "\">0</text>\n<path fill=\"#aaa\" d=\"" + old_part +
         "\"/>\n<path fill=\"#ff7f0e\" d=\"" + new_part + "\"/>\n<text x=\"" + num(kLeft) +
         "\" y=\"" + num(h + 25) + "\">block 0</text>\n<text x=\"" + num(kLeft + kPlot - 60) +
         "\" y=\"" + num(h + 25) + "\">block " + std::to_string(after.size() - 1) +
         "</text>\n</svg>\n";
  out +=
      "<p><span class=\"sw wear-old\"></span>erase count before the action &nbsp; "
      "<span class=\"sw wear-new\"></span>erases by the uncut action (every cut starts again "
      "from the flash before it).</p>\n";
  if (erased.empty()) {
    out += "<p>The action erased no block.</p>\n";
    return;
  }
  out += "<table><tr><th>block</th><th>erases by the action</th><th>erase count after</th></tr>\n";
  for (std::size_t i = 0; i < erased.size() && i < kShownBlocks; ++i) {
    const std::size_t b = erased[i];
    out += "<tr><td class=\"n\">" + std::to_string(b) + "</td><td class=\"n\">" +
           std::to_string(after[b] - before[b]) + "</td><td class=\"n\">" +
           std::to_string(after[b]) + "</td></tr>\n";
  }
  out += "</table>\n";
  if (erased.size() > kShownBlocks)
    out += "<p>" + std::to_string(erased.size() - kShownBlocks) + " more blocks.</p>\n";
}

void failures(std::string& out, const Report& r, const std::string& report_path) {
  out += "<h2>Failures</h2>\n";
  std::size_t shown = 0, failed = 0;
  for (const CutRecord& cut : r.cuts) {
    if (!cut.failed) continue;
    if (++failed > kShownFailures) continue;
    ++shown;
    out += "<section id=\"" + anchor(cut) + "\">\n<h3 class=\"fail\">" + e(cut.point.id()) +
           " (step " + std::to_string(cut.step) + "): " + e(cut.outcome) + "</h3>\n<p>" +
           e(cut.detail) + "</p>\n";
    if (!cut.fault.is_null()) {
      out += "<p>Cut at " + e(cut.fault.value("op", std::string())) + " of block " +
             std::to_string(cut.fault.value("block", 0U)) + " page " +
             std::to_string(cut.fault.value("page", 0U)) + " (" + e(cut.partition) + ", " +
             e(cut.fault.value("cut", std::string())) + ").</p>\n";
    }
    out += "<p>Replay:</p><pre>" + e(replay_command(report_path, cut)) + "</pre>\n";
    std::string transcript;
    for (const auto& line : cut.transcript)
      transcript += line + "\n";
    out += "<p>Transcript:</p><pre>" + e(transcript) + "</pre>\n</section>\n";
  }
  if (failed == 0) out += "<p class=\"pass\">None.</p>\n";
  if (failed > shown) {
    out += "<p>" + std::to_string(failed - shown) +
           " more failures: their transcripts are in the JSON report.</p>\n";
  }
}

}  // namespace

std::string to_html(const Report& report, const std::string& report_path) {
  const std::string name =
      (report.scenario.parent_path().filename() / report.scenario.filename()).string();
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>vmodem campaign: " + e(name) + "</title>\n" + kStyle + "</head>\n<body>\n";
  out += "<h1>Power-cut campaign: " + e(name) + "</h1>\n";
  out += "<p class=\"" + std::string(report.passed() ? "pass" : "fail") + "\">" +
         e(summary(report)) + "</p>\n";
  if (report.partial()) {
    out += "<p class=\"partial\">Partial: the campaign was interrupted after " +
           std::to_string(report.result.cuts) + " of " + std::to_string(report.planned) +
           " planned cuts.</p>\n";
  }
  facts(out, report);
  tally(out, report);
  strip_plot(out, report);
  failing_operations(out, report);
  wear(out, report);
  failures(out, report, report_path);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace vmodem::sim::campaign
