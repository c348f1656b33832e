// Runs a scenario's power-cut campaign in this process, through the one
// campaign engine (nand/campaign.hpp): a module is manufactured (or loaded
// from an image), the setup runs once and the module is powered off in
// order; that flash is every run's start. The action is run once uncut as a
// reference (the file systems' trees and backup records after each step),
// measured by the engine, and then cut at each planned operation. By
// default the cuts branch off one uncut run (every mode's), as the backup
// campaigns do: at a planned operation the flash is checkpointed, the
// operation cut short, a second module in this process powers up on that
// flash and is judged, the flash is rolled back and the uncut run goes on
// (a cut costs its recovery, not the action before it). With
// RunOptions::replay, and for a one-cut replay (`only`), each cut instead
// replays the action from the kept flash up to the cut. Both give the same
// cuts, flash and verdicts (tests/simulator_campaign/branch_test.cpp). A
// cut then powers up and is judged:
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

#include "campaign/report.hpp"
#include "campaign/scenario.hpp"

namespace vmodem::sim::campaign {

struct RunOptions {
  // Replay exactly this cut (the scenario's cut plan is ignored).
  std::optional<nand::campaign::CutPoint> only;
  // Replay the action up to every cut instead of branching off one uncut
  // run (`vmodem campaign run --replay-cuts`): slower, the same report.
  bool replay = false;
  // Replay: write the flash right after the cut to <dir>/nand.img (the
  // state directory `vmodem run --state` boots) and the transcript beside it.
  std::filesystem::path keep_state;
  // Only this shard of the plan's cut points (nand::campaign::Plan::Shard,
  // 0-based): `vmodem campaign run --shard I/N` runs shard {I - 1, N}.
  Shard shard{};
  // Workers, each with a module of its own on a thread of its own, each
  // cutting a finer shard of `shard` (worker w of J: shard {index + count *
  // w, count * J}). The report is the same for any number of workers but
  // its `seconds` (wall clock). 0 counts as 1; a replay (`only`) uses one.
  unsigned workers = 1;
  // Called after each verified cut, from a worker's thread but never two at
  // once: `done` counts every worker's first cuts (a second cut, in a
  // recovery boot, leaves it as it is: their number is known only as the
  // boots run), `planned` is the shard's planned first cuts (progress).
  std::function<void(const CutRecord&, std::uint64_t done, std::uint64_t planned)> on_cut;
  // Asked before each cut, from any worker's thread: true stops every
  // worker there (Ctrl-C). The report is then partial (Report::partial()).
  std::function<bool()> stop;
};

// Runs the campaign: every worker makes its module, runs the setup and the
// uncut reference run, then cuts its share. Cuts are in the plan's order
// (mode by mode, operations ascending) whatever the number of workers.
// An error (not a failed cut) when the module cannot be made, the setup
// fails, or the uncut action does not succeed (the first worker's error).
tl::expected<Report, std::string> run_campaign(const Scenario& scenario,
                                               const RunOptions& options = {});

}  // namespace vmodem::sim::campaign
