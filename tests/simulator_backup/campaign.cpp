#include "campaign.hpp"

#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/rng.hpp>

namespace vmodem::sim::testing {

namespace {

Side other_of(Side side) {
  return side == Side::ap ? Side::modem : Side::ap;
}

std::vector<std::uint8_t> text(const std::string& s) {
  return {s.begin(), s.end()};
}

// The host's changes after the backup: a file created, a factory file
// deleted, one rewritten (SPEC §4's auxiliary tests, a little more). None of
// them a boot-critical file (probes 7 and 8 would restore at once).
tl::expected<void, std::string> change_tree(fs::FileSystem& fs, Side side) {
  const bool ap = side == Side::ap;
  std::vector<std::uint8_t> grown(6000);
  for (std::size_t i = 0; i < grown.size(); ++i)
    grown[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (auto status : {fs.write_file("/test.txt", text("created after the backup\n")),
                      fs.unlink(ap ? "/lwm2m/objects/3.tlv" : "/cfg/apn.conf"),
                      fs.write_file(ap ? "/etc/qcfg.ini" : "/nv/item_files/10", grown)}) {
    if (!status) return tl::unexpected("changing the tree: " + status.error().message());
  }
  return {};
}

// Damage a probe point catches: page 0 of the partition's first block made
// uncorrectable; if the file system explains that away, the whole partition
// erased. Returns an error when neither fails a check.
tl::expected<void, std::string> damage(ModuleRig& rig, Side side) {
  auto& chip = rig.flash().lock().chip();  // single-threaded rig: see State::storage()
  chip.power_up();
  const PartitionEntry* entry = rig.profile().find_role(role_of(side));
  auto partition = rig.flash().partition(entry->spec.name);
  if (!partition) return tl::unexpected(partition.error().message());
  const auto& config = rig.env().config;
  fs::MountOptions read_only;
  read_only.read_only = true;
  const nand::PageAddr first{(*partition)->physical_block(0), 0};
  (void)chip.inject_bit_flips(first, chip.config().ecc.strength_bits + 1, 0);
  if (fs::FileSystem::mount(**partition, config, read_only)) {
    for (std::uint32_t b = 0; b < (*partition)->geometry().block_count; ++b)
      (void)(*partition)->erase(b);
    if (fs::FileSystem::mount(**partition, config, read_only))
      return tl::unexpected(std::string("the damage fails no probe point"));
  }
  chip.cut_power();
  return {};
}

// What the flash holds in `side`'s file system and backup partitions: every
// page's raw cells, deviation mask and metadata, every block's metadata.
std::uint64_t flash_digest(ModuleRig& rig, Side side) {
  const bool ap = side == Side::ap;
  auto flash = rig.flash().lock();  // no NAND operation runs in here
  const nand::Storage& storage = flash.storage();
  const nand::Geometry& g = storage.geometry();
  std::string page(g.raw_page_size(), '\0');
  std::uint64_t digest = 0;
  auto add = [&](std::string_view bytes) {
    digest = nand::Rng::mix(digest, std::hash<std::string_view>{}(bytes));
  };
  for (const PartitionRole role :
       {role_of(side), ap ? PartitionRole::ap_fs_backup : PartitionRole::modem_fs_backup,
        ap ? PartitionRole::ap_fs_backup_info : PartitionRole::modem_fs_backup_info}) {
    const nand::PartitionSpec& spec = rig.profile().find_role(role)->spec;
    for (std::uint32_t b = spec.first_block; b < spec.end_block(); ++b) {
      const nand::BlockMeta& block = storage.block_meta(b);
      add({reinterpret_cast<const char*>(&block), sizeof block});
      for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
        storage.read_cells({b, p}, 0, {reinterpret_cast<std::uint8_t*>(page.data()), page.size()});
        add(page);
        nand::PageMeta meta = storage.page_meta({b, p});
        meta.deviation_slot = meta.deviation_slot ? 1 : 0;  // slot numbers may differ
        add({reinterpret_cast<const char*>(&meta), sizeof meta});
        if (const std::uint8_t* mask = storage.deviation({b, p}))
          add({reinterpret_cast<const char*>(mask), page.size()});
      }
    }
  }
  return digest;
}

bool counters_zero(const fs::BackupInfo& info) {
  for (auto c : info.probe_counts)
    if (c) return false;
  return true;
}

}  // namespace

std::string to_string(Scenario scenario) {
  switch (scenario) {
    case Scenario::backup:
      return "backup";
    case Scenario::forced_restore:
      return "forced restore";
    case Scenario::probe_restore:
      return "probe restore";
  }
  return "?";
}

// The campaign as the engine's case (nand/campaign.hpp): rewind to the
// prepared flash, arm the cut, run the operation under test, verify after
// the cut; the backup scenario also branches its cuts off one uncut =1/=11.
struct Campaign::State : nand::campaign::BranchingCase {
  CampaignOptions o;
  std::unique_ptr<ModuleRig> rig;
  Tree old_tree, new_tree, other_tree;  // recorded trees (module_rig.hpp)
  fs::BackupInfo before;                // the side's record before the operation under test
  fs::BackupInfo after;                 // after it ran uncut (backup: the new image)
  fs::BackupInfo other;                 // the other side's record (must not move)
  std::uint64_t ops = 0;
  int probe = 0;
  nand::Rng rng{1};

  // The campaign's running record (second cuts, per-cut records).
  CampaignResult* result = nullptr;
  // The cut act() runs up to (restore scenarios arm it when the side boots).
  std::optional<nand::campaign::CutPoint> armed;
  // The action failed without a cut: verify() reports it.
  std::string act_error;
  std::uint64_t measured = 0;  // restore scenarios: the side's boot operations, uncut

  // The rig's flash is single-threaded (Flash::Threads::one): the lock is
  // let go at once, and the parts used as they are.
  nand::Storage& storage() { return rig->flash().lock().storage(); }
  nand::FaultInjector& injector() override { return rig->flash().lock().faults(); }
  bool restoring() const { return o.scenario != Scenario::backup; }
  std::string op_name() const {
    const bool ap = o.side == Side::ap;
    switch (o.scenario) {
      case Scenario::backup:
        return ap ? "=11" : "=1";
      case Scenario::forced_restore:
        return ap ? "=13 + boot" : "=3 + boot";
      case Scenario::probe_restore:
        return "probe " + std::to_string(probe) + " + boot";
    }
    return "?";
  }

  // Back to the prepared flash, power on, no rule armed.
  void roll_back(std::uint64_t cut_seed) {
    rig->drop();
    storage().snapshot_rollback();
    rig->restore_power();
    injector().reseed(nand::Rng::mix(o.seed, cut_seed));
  }
  // A power-on whose boot of the side under test is cut at its operation n.
  BootResult boot_cut_at(std::uint64_t n) {
    return rig->power_on([&](Side s) {
      if (s == o.side) (void)injector().arm_power_cut(n, o.cut);
    });
  }

  // --- nand::campaign::BranchingCase ---
  void rewind() override;
  void arm(const nand::campaign::CutPoint& point) override;
  bool act() override;
  std::uint64_t operations() override;
  nand::campaign::Verdict verify(const nand::campaign::CutPoint& point) override;
  std::string anomaly() override { return act_error; }
  void branch_enter(const nand::campaign::CutPoint& point) override;
  void branch_leave() override;
  // After a cut: what the module does when power comes back.
  void power_back() {
    rig->drop();
    rig->restore_power();
  }

  tl::expected<void, std::string> prepare();
  std::string verify(std::string& label);
  std::string verify_backup(std::string& label, const fs::BackupInfo& info);
  std::string verify_restore(std::string& label, const fs::BackupInfo& info);
};

tl::expected<void, std::string> Campaign::State::prepare() {
  auto made = ModuleRig::create(o.mode, o.seed);
  if (!made) return tl::unexpected(made.error());
  rig = std::move(*made);
  if (rig->power_on() != BootResult::app_rdy)
    return tl::unexpected(std::string("first boot failed"));
  fs::FileSystem& fs = *rig->file_system(o.side);
  auto old_recorded = record_tree(fs);
  auto other_recorded = record_tree(*rig->file_system(other_of(o.side)));
  if (!old_recorded || !other_recorded) return tl::unexpected(std::string("reading the trees"));
  old_tree = std::move(*old_recorded);
  other_tree = std::move(*other_recorded);
  if (auto changed = change_tree(fs, o.side); !changed) return changed;
  auto new_recorded = record_tree(fs);
  if (!new_recorded) return tl::unexpected(std::string("reading the changed tree"));
  new_tree = std::move(*new_recorded);
  if (o.scenario == Scenario::forced_restore) {
    if (auto ok = rig->schedule_restore(o.side); !ok) return tl::unexpected(ok.error().message());
  }
  before = rig->engine(o.side)->info();
  rig->power_off();
  if (o.scenario == Scenario::probe_restore) {
    if (auto damaged = damage(*rig, o.side); !damaged) return damaged;
  }
  if (o.scenario == Scenario::backup) {
    // Every cut starts from the module at APP RDY: booted once here, then
    // rolled back to and attached to (the file system mounted, the engine
    // opened) before each =1.
    rig->restore_power();
    if (rig->power_on() != BootResult::app_rdy) return tl::unexpected(std::string("boot failed"));
    other = rig->engine(other_of(o.side))->info();
    rig->power_off();
  }
  storage().snapshot_begin();

  // The uncut run: how many operations it takes, and what it leaves.
  roll_back(0);
  if (o.scenario == Scenario::backup) {
    if (!rig->attach(o.side)) return tl::unexpected(std::string("attach failed"));
    injector().reset_operation_count();
    if (auto ok = rig->backup(o.side); !ok) return tl::unexpected(ok.error().message());
    ops = injector().operation_count();
  } else {
    std::uint64_t start = 0, end = 0;
    const auto booted_to = rig->power_on([&](Side s) {
      if (s == o.side) start = injector().operation_count();
      if (s == other_of(o.side) && o.side == Side::modem) end = injector().operation_count();
    });
    if (booted_to != BootResult::app_rdy)
      return tl::unexpected(std::string("restoring boot failed"));
    if (o.side == Side::ap) end = injector().operation_count();
    ops = end - start;
    const FsBoot& booted = rig->booted(o.side);
    if (booted.outcome != FsBootOutcome::restored)
      return tl::unexpected("the boot did not restore: " + std::string(to_string(booted.outcome)));
    probe = booted.decision.probe;
    if (!holds_tree(*booted.fs, old_tree))
      return tl::unexpected(std::string("the uncut restore does not give the backed-up tree"));
  }
  after = rig->engine(o.side)->info();
  if (o.scenario != Scenario::backup) other = rig->engine(other_of(o.side))->info();
  return {};
}

std::string Campaign::State::verify(std::string& label) {
  for (const Side side : {Side::modem, Side::ap}) {
    FsBoot& booted = rig->booted(side);
    if (o.full_fsck) {
      const auto report = fs::FileSystem::fsck(*booted.partition, rig->env().config);
      if (!report.ok()) return std::string(name_of(side)) + " fsck: " + report.first()->describe();
    } else if (const auto report = booted.fs->check(); !report.ok()) {
      return std::string(name_of(side)) + " check: " + report.first()->describe();
    }
  }
  if (o.verify_other) {
    if (!holds_tree(*rig->file_system(other_of(o.side)), other_tree))
      return "the other file system changed";
    const auto other_now = rig->engine(other_of(o.side))->info();
    if (other_now.backup_count != other.backup_count ||
        other_now.restore_count != other.restore_count || other_now.valid != other.valid)
      return "the other file system's counters moved";
  }
  const auto info = rig->engine(o.side)->info();
  if (info.restore_in_progress || info.restore_pending || info.boot_attempts != 0)
    return "restore flags or boot counter left set after APP RDY";
  return restoring() ? verify_restore(label, info) : verify_backup(label, info);
}

std::string Campaign::State::verify_backup(std::string& label, const fs::BackupInfo& info) {
  FsBoot& booted = rig->booted(o.side);
  if (booted.outcome != FsBootOutcome::mounted)
    return "boot did " + std::string(to_string(booted.outcome)) + ", expected a plain mount";
  if (!holds_tree(*booted.fs, new_tree)) return "the file system does not hold its tree";
  if (info.restore_count != before.restore_count || !counters_zero(info))
    return "restore counters moved";
  bool fresh = false;
  if (!info.valid) {
    if (o.mode == fs::PowerLossMode::safe) return "safe mode lost the previous backup";
    if (info.backup_count != before.backup_count) return "invalid backup counted";
    label = "new tree, backup invalid (back up again)";
  } else if (info.backup_count == after.backup_count) {
    if (info.image_bytes != after.image_bytes || info.files != after.files)
      return "backup counted but not the new image";
    fresh = true;
    label = "new tree, new backup valid";
  } else if (info.backup_count == before.backup_count) {
    if (info.image_bytes != before.image_bytes || info.files != before.files)
      return "old backup counted but its image changed";
    label = "new tree, old backup valid";
  } else {
    return "backup_count " + std::to_string(info.backup_count);
  }
  if (info.valid && o.check_content) {
    // The backup holds exactly the tree its record names.
    if (auto ok = rig->schedule_restore(o.side); !ok) return "=3: " + ok.error().message();
    rig->power_off();
    rig->restore_power();
    if (rig->power_on() != BootResult::app_rdy) return "no APP RDY after the forced restore";
    if (rig->booted(o.side).outcome != FsBootOutcome::restored) return "forced restore not run";
    if (!holds_tree(*rig->file_system(o.side), fresh ? new_tree : old_tree))
      return std::string("forced restore does not give the ") + (fresh ? "new" : "old") + " tree";
    if (rig->engine(o.side)->info().restore_count != before.restore_count + 1)
      return "forced restore not counted";
  }
  if (o.backup_after) {
    const auto count = rig->engine(o.side)->info().backup_count;
    if (auto ok = rig->backup(o.side); !ok) return "a later backup fails: " + ok.error().message();
    const auto now = rig->engine(o.side)->info();
    if (!now.valid || now.backup_count != count + 1) return "a later backup is not counted";
  }
  return {};
}

std::string Campaign::State::verify_restore(std::string& label, const fs::BackupInfo& info) {
  FsBoot& booted = rig->booted(o.side);
  if (!holds_tree(*booted.fs, old_tree)) return "the file system is not the backed-up tree";
  if (!info.valid || info.backup_count != before.backup_count) return "the backup record moved";
  if (info.restore_count != before.restore_count + 1)
    return "restore_count " + std::to_string(info.restore_count);
  auto expect = before.probe_counts;
  if (probe >= 1) expect[probe - 1] += 1;
  if (info.probe_counts != expect)
    return "probe counters do not name probe " + std::to_string(probe);
  switch (booted.outcome) {
    case FsBootOutcome::mounted:
      label += "restore had completed, backed-up tree mounted";
      break;
    case FsBootOutcome::restored:
      if (booted.decision.resumed) {
        label += "interrupted restore restarted at next boot";
      } else if (o.scenario == Scenario::forced_restore) {
        label += "forced restore (still pending) run at next boot";
      } else {
        label += "probe failed again, restored at next boot";
      }
      break;
    default:
      return "boot outcome " + std::string(to_string(booted.outcome));
  }
  if (o.backup_after) {
    if (auto ok = rig->backup(o.side); !ok) return "a later backup fails: " + ok.error().message();
    if (rig->engine(o.side)->info().backup_count != before.backup_count + 1)
      return "a later backup is not counted";
  }
  return {};
}

Campaign::Campaign(std::unique_ptr<State> state) : s_(std::move(state)) {}
Campaign::~Campaign() = default;

tl::expected<std::unique_ptr<Campaign>, std::string> Campaign::prepare(CampaignOptions options) {
  auto state = std::make_unique<State>();
  state->o = options;
  state->rng.reseed(options.seed);
  if (auto ok = state->prepare(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<Campaign>(new Campaign(std::move(state)));
}

std::uint64_t Campaign::operations() const {
  return s_->ops;
}

void Campaign::State::rewind() {
  roll_back(0);
  armed.reset();
  act_error.clear();
  // A backup starts from the module at APP RDY: its file system mounted and
  // its engine opened over the flash as the boot left it.
  if (o.scenario == Scenario::backup && !rig->attach(o.side))
    act_error = "the booted module does not attach";
  injector().reset_operation_count();
}

void Campaign::State::arm(const nand::campaign::CutPoint& point) {
  injector().reseed(nand::Rng::mix(o.seed, point.operation));
  armed = point;
  // A restore's cut is armed when the side's boot starts (boot_cut_at).
  if (o.scenario == Scenario::backup) (void)injector().arm_power_cut(point.operation, point.mode);
}

bool Campaign::State::act() {
  if (!act_error.empty()) return true;  // verify() reports it
  if (o.scenario == Scenario::backup) {
    auto status = rig->backup(o.side);
    if (status) return false;  // uncut, or the backup finished first
    if (status.error().code == fs::Errc::power_loss) return true;
    act_error = "backup failed without a cut: " + status.error().message();
    return true;
  }
  if (!armed) {
    // The measurement: the operations of the side's own boot.
    std::uint64_t start = 0, end = 0;
    const auto booted = rig->power_on([&](Side s) {
      if (s == o.side) start = injector().operation_count();
      if (s == other_of(o.side) && o.side == Side::modem) end = injector().operation_count();
    });
    if (o.side == Side::ap) end = injector().operation_count();
    measured = booted == BootResult::app_rdy ? end - start : 0;
    return false;
  }
  const BootResult r = boot_cut_at(armed->operation);
  if (r == BootResult::app_rdy) return false;  // the boot finished first
  if (r == BootResult::power_lost) return true;
  act_error = "boot failed without a cut";
  return true;
}

std::uint64_t Campaign::State::operations() {
  return o.scenario == Scenario::backup ? injector().operation_count() : measured;
}

// After the cut: power back, boot (maybe cut again), verify.
nand::campaign::Verdict Campaign::State::verify(const nand::campaign::CutPoint& point) {
  using nand::campaign::Verdict;
  const std::uint64_t n = point.operation;
  auto failed = [&](const std::string& why) {
    if (o.record_cuts) result->per_cut[n].outcome = "FAILED: " + why;
    return Verdict::fail("FAILED", why);
  };
  if (!act_error.empty()) return failed(act_error);
  if (o.record_cuts) result->per_cut[n].flash_digest = flash_digest(*rig, o.side);
  power_back();
  std::string label;
  if (restoring() && rng.chance(o.two_deep)) {
    // Two levels deep: the boot after the cut is cut too.
    const std::uint64_t second = 1 + rng.below(ops);
    ++result->second_cuts;
    const BootResult r = boot_cut_at(second);
    if (r == BootResult::failed)
      return failed("then cut@" + std::to_string(second) + ": boot after the cut failed");
    label = r == BootResult::power_lost ? "cut twice: " : "second cut missed: ";
    power_back();
  }
  if (rig->power_on() != BootResult::app_rdy) return failed("no APP RDY after the cut");
  if (auto why = verify(label); !why.empty()) return failed(why);
  if (o.record_cuts) result->per_cut[n].outcome = label;
  return Verdict::pass(label);
}

void Campaign::State::branch_enter(const nand::campaign::CutPoint& point) {
  // The flash as the operation left it before n; back to it afterwards.
  storage().checkpoint_begin();
  injector().reseed(nand::Rng::mix(o.seed, point.operation));  // as arm() does for a replay
}

void Campaign::State::branch_leave() {
  rig->drop();
  storage().checkpoint_rollback();
  rig->restore_power();
}

namespace {
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
}  // namespace

CampaignResult Campaign::run() {
  const double cpu_start = thread_cpu_seconds();
  CampaignResult out;
  s_->result = &out;
  nand::campaign::Plan plan;
  plan.modes = {s_->o.cut};
  plan.sample = s_->o.sample;
  plan.seed = s_->o.seed;
  const bool branch = s_->o.branch && s_->o.scenario == Scenario::backup;
  const auto r = branch ? nand::campaign::run_branched(*s_, plan) : nand::campaign::run(*s_, plan);
  s_->result = nullptr;
  out.operations = r.operations;
  out.cuts = r.cuts;
  out.tally = r.tally;
  out.tally.erase("FAILED");
  out.failed = r.failed;
  for (const auto& f : r.failures)
    out.failures.push_back("cut@" + f.id + ": " + f.detail);
  if (r.not_reached > 0) out.tally["no cut (finished first)"] = r.not_reached;
  out.probe = s_->probe;
  out.seconds = r.seconds;
  out.cpu_seconds = thread_cpu_seconds() - cpu_start;
  return out;
}

std::string CampaignResult::describe(const CampaignOptions& o) const {
  std::ostringstream out;
  out << to_string(o.scenario) << " " << name_of(o.side) << " FS"
      << (probe ? " (probe " + std::to_string(probe) + ")" : std::string()) << ", "
      << (o.mode == fs::PowerLossMode::real ? "real" : "safe") << " mode, cut "
      << nand::to_string(o.cut) << ", seed " << o.seed << ": " << operations << " ops, " << cuts
      << " cuts (" << second_cuts << " cut again) in " << seconds << " s (" << cpu_seconds
      << " s CPU)\n";
  for (const auto& [label, count] : tally)
    out << "    " << label << ": " << count << "\n";
  if (failed) out << "    FAILED: " << failed << "\n";
  for (const auto& f : failures)
    out << "      " << f << "\n";
  return out.str();
}

}  // namespace vmodem::sim::testing
