// What a cut left, judged after the power-up (runner.hpp: the invariants
// and the outcomes).
#include "campaign/scenario_case.hpp"

namespace vmodem::sim::campaign {

namespace {

std::size_t restores_of(const BootReport& boot, const std::string& fs) {
  std::size_t n = 0;
  for (const auto& r : boot.restores)
    n += r.value("file_system", "") == fs ? 1 : 0;
  return n;
}
bool rebuilt(const BootReport& boot, const std::string& fs) {
  for (const auto& r : boot.rebuilds) {
    if (r.value("file_system", "") == fs) return true;
  }
  return false;
}

}  // namespace

std::optional<Verdict> ScenarioCase::judge_power_up(ModuleDriver& d, PowerUp& p) const {
  if (!p.boot.complete) {
    std::string why = "the module did not complete its boot";
    for (const auto& e : p.boot.events)
      why += "; " + e;
    return Verdict::fail("failed: boot", why);
  }
  p.now = capture(d.module());
  for (const auto& [name, fs] : p.now) {
    if (!fs.mounted) return Verdict::fail("failed: mount", name + " is not mounted");
    if (!fs.error.empty()) return Verdict::fail("failed: readable", name + ": " + fs.error);
    const fs::CheckReport check = d.module().file_system(name)->lock()->check();
    if (!check.ok()) return Verdict::fail("failed: clean", name + ": " + check.first()->describe());
  }
  return std::nullopt;
}

std::optional<Verdict> ScenarioCase::run_checks(ModuleDriver& d) {
  for (std::size_t i = 0; i < s_.checks.size(); ++i) {
    const StepResult r = d.run(s_.checks[i], transcript_);
    if (!r.ok())
      return Verdict::fail("failed: check " + std::to_string(i + 1), r.describe(s_.checks[i]));
  }
  return std::nullopt;
}

// The power-up's own verdicts first, then the cut's (the step in flight
// decides what the files and backups may be), then the scenario's checks.
Verdict ScenarioCase::judge(const PowerUp& p) {
  if (p.failed) return *p.failed;
  std::vector<std::string> labels{state_label(p.now, p.boot)};
  if (auto failed = judge_files(p.now, p.boot, labels)) return *failed;
  if (auto failed = judge_backups(p.now, p.boot, labels)) return *failed;
  if (p.check_failed) return *p.check_failed;
  return Verdict::pass(joined(labels));
}

// "old state", "new state", "after step N" (or "before step N" when the file
// systems disagree), judged on the file systems no boot restored.
std::string ScenarioCase::state_label(const ModuleState& now, const BootReport& boot) const {
  const std::size_t k = in_flight_ - 1;  // steps acknowledged
  bool all_after = true;
  bool all_before = true;
  for (const auto& [name, fs] : now) {
    if (restores_of(boot, name) > 0 || rebuilt(boot, name)) continue;
    all_after = all_after && tree_difference(fs, ref_[k + 1].at(name)).empty();
    all_before = all_before && tree_difference(fs, ref_[k].at(name)).empty();
  }
  const std::size_t n = s_.action.size();
  if (all_after) return k + 1 == n ? "new state" : "after step " + std::to_string(k + 1);
  if (all_before) return k == 0 ? "old state" : "after step " + std::to_string(k);
  return "step " + std::to_string(k + 1) + " applied in part";
}

std::optional<Verdict> ScenarioCase::judge_files(const ModuleState& now, const BootReport& boot,
                                                 std::vector<std::string>& labels) {
  const std::size_t k = in_flight_ - 1;
  for (const auto& [name, fs] : now) {
    const FsState& before = ref_[k].at(name);
    const FsState& after = ref_[k + 1].at(name);
    const std::string lost = untouched_lost(fs, before, after);
    if (rebuilt(boot, name)) {
      labels.push_back(name + " rebuilt from factory");
      if (!lost.empty()) record_.note.append(name).append(": ").append(lost).append(" (rebuilt); ");
      continue;
    }
    if (restores_of(boot, name) > 0) {
      labels.push_back(name + " recovered by restore");
      if (!lost.empty())
        record_.note.append(name).append(": ").append(lost).append(" (restored); ");
      continue;
    }
    if (!lost.empty())
      return Verdict::fail("failed: acknowledged files intact", name + ": " += lost);
    if (!tree_difference(fs, before).empty() && !tree_difference(fs, after).empty()) {
      return Verdict::fail("failed: step all or nothing",
                           name + ": neither the state before step " + std::to_string(k + 1) +
                               " nor after it (" + tree_difference(fs, after) + ")");
    }
  }
  return std::nullopt;
}

bool ScenarioCase::touched_by_action(const std::string& fs) const {
  const auto& first = ref_.front().at(fs).backup;
  const auto& last = ref_.back().at(fs).backup;
  return first && last && first->backup_count != last->backup_count;
}

std::optional<Verdict> ScenarioCase::judge_backups(const ModuleState& now, const BootReport& boot,
                                                   std::vector<std::string>& labels) {
  const std::size_t k = in_flight_ - 1;
  for (const auto& [name, fs] : now) {
    const auto& have = fs.backup;
    const auto& before = ref_[k].at(name).backup;
    const auto& after = ref_[k + 1].at(name).backup;
    if (!have || !before || !after) continue;
    const std::uint32_t restored = static_cast<std::uint32_t>(restores_of(boot, name));
    if (have->restore_count != before->restore_count + restored &&
        have->restore_count != after->restore_count + restored) {
      return Verdict::fail("failed: restore counters",
                           name + ": restore_count " + std::to_string(have->restore_count) +
                               ", expected " + std::to_string(before->restore_count + restored));
    }
    const bool step_backs_up = before->backup_count != after->backup_count;
    if (!have->valid && (before->valid || after->valid)) {
      if (safe_) {
        return Verdict::fail("failed: backup valid",
                             name + ": the safe power-loss mode left no valid backup");
      }
      if (!step_backs_up) {
        return Verdict::fail("failed: backup valid",
                             name + ": the backup went invalid in a step that does not back up");
      }
      labels.push_back(name + " backup invalid (back up again)");
      continue;
    }
    if (!have->valid) continue;
    if (step_backs_up && have->backup_count == after->backup_count) {
      labels.push_back(name + " backup new");
    } else if (have->backup_count == before->backup_count) {
      if (touched_by_action(name)) labels.push_back(name + " backup old");
    } else {
      return Verdict::fail("failed: backup counters",
                           name + ": backup_count " + std::to_string(have->backup_count) +
                               " is neither " + std::to_string(before->backup_count) + " nor " +
                               std::to_string(after->backup_count));
    }
  }
  return std::nullopt;
}

}  // namespace vmodem::sim::campaign
