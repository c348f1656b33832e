// Runs a scenario's power-cut campaign in this process, through the one
// campaign engine (nand/campaign.hpp): a module is manufactured (or loaded
// from an image), the setup runs once and the module is powered off in
// order; that flash is every run's start. The action is run once uncut as a
// reference (the file systems' trees and backup records after each step),
// measured by the engine, and then cut at each planned operation: each cut
// replays the action from the kept flash up to the cut (branching off one
// uncut run, as the backup campaigns do, is a later optimisation), powers
// up, and is judged:
//
//  * boot: the module completes its boot (APP RDY; RDY on UC20);
//  * clean: every mounted file system passes its check (probes 5-9);
//  * files: a file system not restored holds the state before the step in
//    flight or after it — files of earlier acknowledged steps intact,
//    the step in flight wholly done or not at all;
//  * backup: backup records that moved only as the step in flight may move
//    them (the same backup, or the one that step makes; invalid only in
//    the real power-loss mode and only if the step backs up), restore
//    counters equal to the restores this boot reported;
//  * checks: the scenario's own AT checks get their expected answers.
//
// A passing cut is classified: "old state" / "new state" / "after step N",
// the backup's fate, "recovered by restore", "rebuilt from factory". Every
// random choice comes from the scenario's seed; a cut's id replays it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/campaign.hpp>

#include "campaign/module_driver.hpp"
#include "campaign/scenario.hpp"

namespace vmodem::sim::campaign {

// One verified cut.
struct CutRecord {
  nand::campaign::CutPoint point;
  std::string outcome;
  bool failed = false;
  std::string detail;     // a failure: which invariant, what was wrong
  std::string note;       // a pass: what else is worth knowing (files a restore lost)
  std::size_t step = 0;   // 1-based action step in flight at the cut
  nlohmann::json fault;   // the NAND_FAULT of the cut: op, block, page, cut
  std::string partition;  // where the cut operation landed
  Transcript transcript;  // kept for failures (and replays)
};

struct RunOptions {
  // Replay exactly this cut (the scenario's cut plan is ignored).
  std::optional<nand::campaign::CutPoint> only;
  // Replay: write the flash right after the cut to <dir>/nand.img (the
  // state directory `vmodem run --state` boots) and the transcript beside it.
  std::filesystem::path keep_state;
  // Called after each verified cut (progress).
  std::function<void(const CutRecord&, std::uint64_t done, std::uint64_t planned)> on_cut;
};

struct StepSpan {
  std::string label;
  std::uint64_t first = 0, last = 0;  // the step's NAND operations (last < first: none)
};

struct Report {
  std::filesystem::path scenario;
  std::string profile;
  std::uint64_t seed = 0;
  bool safe_power_loss = false;
  std::uint64_t operations = 0;  // of the uncut action
  std::vector<StepSpan> steps;
  std::uint64_t planned = 0;
  nand::campaign::Result result;
  std::vector<CutRecord> cuts;  // every verified cut, in the order run
  double seconds = 0;           // the whole campaign, setup and reference included

  bool passed() const { return result.failed == 0; }
};

// Runs the campaign. An error (not a failed cut) when the module cannot be
// made, the setup fails, or the uncut action does not succeed.
tl::expected<Report, std::string> run_campaign(const Scenario& scenario,
                                               const RunOptions& options = {});

// The report as JSON (README documents the fields); `report_path` makes
// each cut's replay command.
nlohmann::json to_json(const Report& report, const std::string& report_path);

// One line: "40 cuts of 212 operations, 0 failed, 2.1 s (19 cuts/s), seed 7".
std::string summary(const Report& report);

}  // namespace vmodem::sim::campaign
