// What a campaign found (runner.hpp runs it), and the forms a person or a
// CI system reads it in: JSON (the report a replay and a merge read back;
// README documents its fields), JUnit XML (one test case per cut point and
// mode) and a self-contained HTML page (tally, an SVG strip plot of the
// outcome per NAND operation, failing operations by partition and kind,
// wear per block, each failure's transcript and replay command).
//
// Every string from the module or the host (transcripts, answers, file
// names) may hold any bytes: each writer turns bytes that are not UTF-8
// into `\xHH` (json_text.hpp), and the XML and HTML writers also control
// characters XML cannot carry; nothing a transcript holds can end an
// element or open one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/campaign.hpp>

namespace vmodem::sim::campaign {

using Transcript = std::vector<std::string>;
using Shard = nand::campaign::Plan::Shard;

// One verified cut.
struct CutRecord {
  nand::campaign::CutPoint point{};
  std::string outcome;
  bool failed = false;
  std::string detail;         // a failure: which invariant, what was wrong
  std::string note;           // a pass: what else is worth knowing (files a restore lost)
  std::size_t step = 0;       // 1-based action step in flight at the cut
  nlohmann::json fault;       // the NAND_FAULT of the cut: op, block, page, cut
  nlohmann::json boot_fault;  // a second cut's (point.nested()), in the recovery boot
  std::string partition;      // where the cut operation landed
  Transcript transcript;      // kept for failures (and replays)
};

struct StepSpan {
  std::string label;
  std::uint64_t first = 0, last = 0;  // the step's NAND operations (last < first: none)
};

// Erase counts per block before and after the uncut action (the campaign
// puts the flash back after every cut, so this is what the action wears).
struct Wear {
  std::vector<std::uint32_t> before, after;  // empty: not recorded
};

struct Report {
  std::filesystem::path scenario;
  std::string digest;  // Scenario::digest
  std::string profile;
  std::uint64_t seed = 0;
  bool safe_power_loss = false;
  std::vector<nand::CutMode> modes;  // the plan's, in its order
  std::uint32_t sample = 0;          // the plan's (0: every operation)
  Shard shard{};                     // which shard of the plan this is
  std::uint64_t operations = 0;      // of the uncut action
  std::vector<StepSpan> steps;
  std::uint64_t planned = 0;  // cut points of this shard
  nand::campaign::Result result;
  std::vector<CutRecord> cuts;  // every verified cut, in the plan's order
  // Power-ups the cuts were verified on: branched, cuts that left the same
  // flash (Storage::content_id, the chip's generator) share one.
  std::uint64_t power_ups = 0;
  double seconds = 0;  // the whole campaign, setup and reference included
  Wear wear;

  bool passed() const { return result.failed == 0; }
  // Stopped (Ctrl-C) before every planned cut ran.
  bool partial() const { return result.stopped; }
};

// "vmodem campaign replay REPORT --cut ID".
std::string replay_command(const std::string& report_path, const CutRecord& cut);

// The report as JSON (README documents the fields); `report_path` makes
// each cut's replay command. Never throws: every string is UTF-8.
nlohmann::json to_json(const Report& report, const std::string& report_path);

// A report written by to_json() read back (for merge and HTML/JUnit from
// shards). An error names the first field that is missing or wrong.
tl::expected<Report, std::string> report_from_json(const nlohmann::json& json);

// JUnit XML: one <testsuite> for the report, one <testcase> per verified
// cut (its id and step as the name, its mode in the classname); a failed
// cut's <failure> holds the invariant, the detail, the transcript and the
// replay command; the run's facts are <properties>.
std::string to_junit(const Report& report, const std::string& report_path);

// A self-contained HTML page (inline CSS and SVG, no script, no external
// resource) showing the report; readable with JavaScript off.
std::string to_html(const Report& report, const std::string& report_path);

// Shard reports of one campaign as the report of the whole: cuts in the
// plan's order, tallies and counts summed, `seconds` summed (the CPU the
// shards spent). An error — naming the report, by its index in `shards`,
// and what differs — unless every report is of the same scenario digest,
// profile, power-loss mode, seed, sample, cut modes, operation count and
// shard count, and the shards are each present once; partial reports
// merge into a partial report.
tl::expected<Report, std::string> merge(std::vector<Report> shards);

// The parts of one campaign cut by workers (finer shards of `whole`, see
// RunOptions::workers), unchecked, as one report of shard `whole`.
Report combine(std::vector<Report> parts, Shard whole);

// How the HTML colours an outcome.
enum class OutcomeClass : std::uint8_t {
  old_state,
  new_state,
  between_steps,  // after step N, applied in part
  backup_invalid,
  restored,
  rebuilt,
  failed,
};
OutcomeClass outcome_class(std::string_view outcome);
std::string_view to_string(OutcomeClass c);

// One line: "40 cuts of 212 operations, 0 failed, 2.1 s (19 cuts/s), seed 7".
std::string summary(const Report& report);

}  // namespace vmodem::sim::campaign
