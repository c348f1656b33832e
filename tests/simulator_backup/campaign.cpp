#include "campaign.hpp"

#include <chrono>
#include <ctime>
#include <functional>
#include <set>
#include <sstream>
#include <string_view>

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

struct Campaign::State {
  CampaignOptions o;
  std::unique_ptr<ModuleRig> rig;
  Tree old_tree, new_tree, other_tree;  // recorded trees (module_rig.hpp)
  fs::BackupInfo before;                // the side's record before the operation under test
  fs::BackupInfo after;                 // after it ran uncut (backup: the new image)
  fs::BackupInfo other;                 // the other side's record (must not move)
  std::uint64_t ops = 0;
  int probe = 0;
  nand::Rng rng{1};

  // The rig's flash is single-threaded (Flash::Threads::one): the lock is
  // let go at once, and the parts used as they are.
  nand::Storage& storage() { return rig->flash().lock().storage(); }
  nand::FaultInjector& injector() { return rig->flash().lock().faults(); }
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
  void rewind(std::uint64_t cut_seed) {
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
  // After a cut: what the module does when power comes back.
  void power_back() {
    rig->drop();
    rig->restore_power();
  }

  void tally(CampaignResult& result, std::uint64_t n, const std::string& label) {
    ++result.tally[label];
    if (o.record_cuts) result.per_cut[n].outcome = label;
  }
  void failed(CampaignResult& result, std::uint64_t n, const std::string& where,
              const std::string& why) {
    ++result.failed;
    if (result.failures.size() < 8) result.failures.push_back(where + ": " + why);
    if (o.record_cuts) result.per_cut[n].outcome = "FAILED: " + why;
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
  rewind(0);
  if (o.scenario == Scenario::backup) {
    if (!rig->attach(o.side)) return tl::unexpected(std::string("attach failed"));
    injector().reset_operation_count();
    if (auto ok = rig->backup(o.side); !ok) return tl::unexpected(ok.error().message());
    ops = injector().operation_count();
  } else {
    std::uint64_t start = 0, end = 0;
    const auto result = rig->power_on([&](Side s) {
      if (s == o.side) start = injector().operation_count();
      if (s == other_of(o.side) && o.side == Side::modem) end = injector().operation_count();
    });
    if (result != BootResult::app_rdy) return tl::unexpected(std::string("restoring boot failed"));
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

void Campaign::cut_at(std::uint64_t n, CampaignResult& result) {
  State& s = *s_;
  const std::string where = "cut@" + std::to_string(n);
  s.rewind(n);
  if (s.o.scenario == Scenario::backup) {
    if (!s.rig->attach(s.o.side))
      return s.failed(result, n, where, "the booted module does not attach");
    (void)s.injector().arm_power_cut(n, s.o.cut);
    auto status = s.rig->backup(s.o.side);
    if (status) return s.tally(result, n, "no cut (backup finished first)");
    if (status.error().code != fs::Errc::power_loss)
      return s.failed(result, n, where, "backup failed without a cut: " + status.error().message());
  } else {
    const BootResult r = s.boot_cut_at(n);
    if (r == BootResult::app_rdy) return s.tally(result, n, "no cut (boot finished first)");
    if (r != BootResult::power_lost) return s.failed(result, n, where, "boot failed without a cut");
  }
  after_cut(n, where, result);
}

void Campaign::run_branched(const std::vector<std::uint64_t>& points, CampaignResult& result) {
  State& s = *s_;
  s.rewind(0);
  if (!s.rig->attach(s.o.side))
    return s.failed(result, 0, "uncut", "the booted module does not attach");
  s.injector().reset_operation_count();
  std::size_t next = 0;
  s.injector().set_branch([&](std::uint64_t n) {
    if (next >= points.size() || points[next] != n) return;
    ++next;
    // The flash as the operation left it before n; back to it afterwards.
    s.storage().checkpoint_begin();
    s.injector().reseed(nand::Rng::mix(s.o.seed, n));  // as rewind(n) does for a replay
    (void)s.injector().cut_pending(s.o.cut);
    after_cut(n, "cut@" + std::to_string(n), result);
    s.rig->drop();
    s.storage().checkpoint_rollback();
    s.rig->restore_power();
  });
  auto status = s.rig->backup(s.o.side);
  s.injector().set_branch({});
  if (!status) s.failed(result, 0, "uncut", "the uncut backup failed: " + status.error().message());
  if (next != points.size()) s.failed(result, 0, "uncut", "the uncut backup took fewer operations");
}

void Campaign::after_cut(std::uint64_t n, std::string where, CampaignResult& result) {
  State& s = *s_;
  if (s.o.record_cuts) result.per_cut[n].flash_digest = flash_digest(*s.rig, s.o.side);
  ++result.cuts;
  s.power_back();
  std::string label;
  if (s.restoring() && s.rng.chance(s.o.two_deep)) {
    // Two levels deep: the boot after the cut is cut too.
    const std::uint64_t second = 1 + s.rng.below(s.ops);
    where += " then cut@" + std::to_string(second);
    ++result.second_cuts;
    const BootResult r = s.boot_cut_at(second);
    if (r == BootResult::failed) return s.failed(result, n, where, "boot after the cut failed");
    label = r == BootResult::power_lost ? "cut twice: " : "second cut missed: ";
    s.power_back();
  }
  if (s.rig->power_on() != BootResult::app_rdy)
    return s.failed(result, n, where, "no APP RDY after the cut");
  if (auto why = s.verify(label); !why.empty()) return s.failed(result, n, where, why);
  s.tally(result, n, label);
}

namespace {
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
}  // namespace

CampaignResult Campaign::run() {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  CampaignResult result;
  result.operations = s_->ops;
  result.probe = s_->probe;
  const std::uint64_t total = s_->ops;
  std::vector<std::uint64_t> points;
  if (s_->o.sample == 0 || s_->o.sample >= total) {
    for (std::uint64_t n = 1; n <= total; ++n)
      points.push_back(n);
  } else {
    // Seeded, and always the last operation (the record that completes it).
    nand::Rng pick(nand::Rng::mix(s_->o.seed, 0x5A3B1E));
    std::set<std::uint64_t> chosen{total};
    while (chosen.size() < s_->o.sample)
      chosen.insert(1 + pick.below(total));
    points.assign(chosen.begin(), chosen.end());
  }
  if (s_->o.branch && s_->o.scenario == Scenario::backup) {
    run_branched(points, result);
  } else {
    for (const auto n : points)
      cut_at(n, result);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.cpu_seconds = thread_cpu_seconds() - cpu_start;
  return result;
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
