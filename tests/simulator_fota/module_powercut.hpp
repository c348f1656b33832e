// Power cut at NAND operation k of the boot-time firmware update, in a real
// Module (in-process, fast mode, bg95-m3, its synthetic factory firmware and
// a package from the fota generator). k counts from the update's START to
// the RDY of the boot that follows it, so it covers the checks, the apply
// with its journal, the read-back, the boot-record switch, withdrawing the
// package, and the reboot onto the firmware now in force.
//
// One module for the whole campaign: the flash is snapshotted with the
// package staged and the module off, and rolled back before every cut
// (nand/storage.hpp), so nothing is manufactured again. After each cut the
// module is powered on with no cut armed and must reach APP RDY on the old
// or the new firmware, say which through its URCs, verify in NAND, and keep
// the files the host stored before the update.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include <vmodem/fota/fota_area.hpp>

#include "module_fixture.hpp"
#include "test_seed.hpp"

namespace vmodem::sim::testing {

struct ModuleCutTally {
  std::uint64_t operations = 0;  // START .. RDY of the uncut update
  std::uint64_t cuts = 0;
  std::uint64_t new_after_restore = 0;  // the next boot resumed from the journal: RESTORE, END 0
  std::uint64_t new_restarted = 0;      // no journal yet: the next boot applied from the start
  std::uint64_t new_committed = 0;      // the switch was durable: END 0 without applying again
  std::uint64_t after_end = 0;          // of new_committed: END 0 printed before the cut
  std::uint64_t old_firmware = 0;
  std::uint64_t failures = 0;
};

struct CutPoint {
  std::uint64_t op;
  nand::CutMode mode;
};

inline constexpr nand::CutMode kAllCutModes[] = {nand::CutMode::before, nand::CutMode::after,
                                                 nand::CutMode::torn_partial,
                                                 nand::CutMode::torn_unstable};

class ModuleCutCampaign {
 public:
  ModuleCutCampaign() : m_(builtin("bg95-m3")) {}

  // Boots once, stores the files, stages the package, snapshots the flash
  // and runs the uncut update once to count its operations. False (with a
  // gtest failure) when any of that fails.
  bool prepare() {
    if (!m_.ok()) return false;
    m_.power_on();
    if (!m_.wait_power(PowerState::app_rdy)) return fail("the first boot never reached APP RDY");
    const bool stored = m_.on_io([&] {
      auto& mod = m_.module();
      std::lock_guard ap_lock(mod.ap_fs()->mutex());
      std::lock_guard modem_lock(mod.modem_fs()->mutex());
      return mod.ap_fs()->write_file("/keep.txt", kApNote).has_value() &&
             mod.modem_fs()->write_file("/keep_modem.bin", kModemNote).has_value();
    });
    if (!stored) return fail("storing the files to keep failed");
    v1_ = m_.running_firmware();
    v2_ = next_version(v1_, "BG95M3LAR02A04");
    const Bytes package = package_for(v1_, v2_);
    if (package.empty()) return false;
    // Off, then the package in the FOTA area as Module::stage_firmware_update
    // leaves it (that call also resets the module at once: the campaign
    // wants the flash as the reset finds it, so it stages the same way).
    const bool staged = m_.on_io([&] {
      auto& mod = m_.module();
      (void)mod.power_off();
      mod.flash().chip().power_up();
      bool ok = false;
      if (auto spec = fota_partition(mod.profile())) {
        auto area = fota::FotaArea::open(mod.flash().device(), *spec);
        ok = area && (*area)->stage(package).has_value();
      }
      mod.flash().chip().cut_power();
      mod.flash().storage().snapshot_begin();
      return ok;
    });
    if (!staged) return fail("staging the package failed");
    m_.on_io([&] {
      m_.set_hook([this](const nlohmann::json& e) { on_event(e); });
      return 0;
    });
    // The uncut update: its operation count bounds the campaign.
    const auto reference = run_boot({0, nand::CutMode::before});
    if (!reference.reached_app_rdy || m_.count("FOTA_END") != 1 ||
        m_.named("FOTA_END")[0]["code"] != 0) {
      return fail("the uncut update did not end with END 0 and APP RDY");
    }
    operations_ = ops_at_rdy_ - ops_at_start_;
    end_op_ = ops_at_end_ - ops_at_start_;
    return operations_ > 0;
  }

  std::uint64_t operations() const { return operations_; }
  // The operation (after START) at which the uncut update printed END 0.
  std::uint64_t end_operation() const { return end_op_; }

  // Every operation in every cut mode (`sample` 0), or `sample` points (an
  // operation and a mode each) drawn from `seed` among the operations of the
  // update itself: up to END 0 and the few after it that withdraw the
  // package (the reboot onto the new firmware is left to the full tier).
  std::vector<CutPoint> points(std::uint32_t sample, std::uint64_t seed) const {
    std::vector<CutPoint> out;
    if (sample == 0) {
      for (const auto mode : kAllCutModes) {
        for (std::uint64_t n = 1; n <= operations_; ++n)
          out.push_back({n, mode});
      }
      return out;
    }
    const std::uint64_t range = std::min(operations_, end_op_ + kWithdrawOps);
    std::mt19937_64 rng(seed);
    std::set<std::pair<std::uint64_t, int>> chosen;
    while (chosen.size() < std::min<std::uint64_t>(sample, 4 * range))
      chosen.insert({rng() % range + 1, static_cast<int>(rng() % 4)});
    for (const auto& [n, mode] : chosen)
      out.push_back({n, kAllCutModes[mode]});
    return out;
  }

  // One cut and the boot after it, checked; adds to `tally`.
  void run_cut(const CutPoint& point, std::uint64_t seed, ModuleCutTally& tally) {
    SCOPED_TRACE("cut (" + std::string(nand::to_string(point.mode)) + ") at operation " +
                 std::to_string(point.op) + " of " + std::to_string(operations_) +
                 " after START (replay: VMODEM_TEST_SEED=" + std::to_string(seed) + ")");
    const int failed_parts_before = failed_parts();
    const auto cut_boot = run_boot(point);
    const auto cut_urcs = m_.urcs();
    const bool cut_said_end0 = has(cut_urcs, kEnd0);
    if (cut_boot.reached_app_rdy) {
      // The cut fell after the operations of this boot (possible only at the
      // very end, e.g. a cut "after" an operation whose success was final).
      ADD_FAILURE() << "the cut boot reached APP RDY";
    }
    if (!cut_boot.saw_start) ADD_FAILURE() << "the cut boot did not start the update";
    m_.clear_events();
    started_ = false;
    // Power back, no cut armed.
    m_.on_io([&] {
      m_.module().flash().injector().clear_rules();
      return 0;
    });
    m_.power_on();
    const bool up = m_.wait_power(PowerState::app_rdy, 20s);
    EXPECT_TRUE(up) << "never APP RDY after the cut";
    ++tally.cuts;
    if (!up) {
      ++tally.failures;
      return;
    }
    const auto urcs = m_.urcs();
    const std::string version = m_.on_io([&] { return m_.module().firmware_version(); });
    check_cgmr(version);
    const auto fw = verified_firmware();
    check_files();
    const bool is_new = version == v2_.version && same_images(fw, v2_);
    const bool is_old = version == v1_.version && same_images(fw, v1_);
    EXPECT_TRUE(is_new || is_old) << "running " << version << ", images of neither version";
    if (is_old) {
      ++tally.old_firmware;
      EXPECT_FALSE(cut_said_end0 || has(urcs, kEnd0)) << "END 0 but the old firmware runs";
    } else if (is_new) {
      classify_new(cut_said_end0, urcs, tally);
    }
    // The package is withdrawn: the next reset boots plainly.
    m_.clear_events();
    m_.on_io([&] { return m_.module().reset(); });
    EXPECT_TRUE(m_.wait_power(PowerState::app_rdy, 20s));
    EXPECT_EQ(m_.count("FOTA_START"), 0u) << "the package is still staged";
    if (failed_parts() != failed_parts_before) ++tally.failures;
  }

 private:
  struct BootSeen {
    bool reached_app_rdy = false;
    bool saw_start = false;
  };
  // FotaArea::clear() after END: three erases, with room to spare.
  static constexpr std::uint64_t kWithdrawOps = 8;
  static constexpr const char* kEnd0 = "+QIND: \"FOTA\",\"END\",0";
  inline static const Bytes kApNote = {'k', 'e', 'e', 'p'};
  inline static const Bytes kModemNote = {0x00, 0xff, 0x5a, 0xa5, 0x42};

  // Powers off, rolls the flash back to "package staged", powers on with a
  // cut at point.op after START (0: none) and waits until the module is off
  // (cut) or APP RDY.
  BootSeen run_boot(const CutPoint& point) {
    m_.on_io([&] {
      auto& mod = m_.module();
      if (mod.power_state() != PowerState::off) (void)mod.power_off();
      mod.flash().storage().snapshot_rollback();
      mod.flash().injector().clear_rules();
      cut_at_ = point;
      started_ = false;
      return 0;
    });
    m_.clear_events();
    m_.power_on();
    BootSeen seen;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      const auto state = m_.on_io([&] { return m_.module().power_state(); });
      if (state == PowerState::app_rdy || state == PowerState::off) {
        seen.reached_app_rdy = state == PowerState::app_rdy;
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
    seen.saw_start = m_.count("FOTA_START") > 0;
    return seen;
  }

  // On the module's thread, before the event is recorded.
  void on_event(const nlohmann::json& e) {
    auto& injector = m_.module().flash().injector();
    if (e["event"] == "FOTA_START" && !started_) {
      started_ = true;
      ops_at_start_ = injector.operation_count();
      // Armed once: the boot after the cut runs with no cut.
      if (cut_at_.op > 0) (void)injector.arm_power_cut(cut_at_.op, cut_at_.mode);
      cut_at_.op = 0;
    } else if (e["event"] == "FOTA_END" && started_) {
      ops_at_end_ = injector.operation_count();
    } else if (e["event"] == "POWER_STATE" && e["data"]["state"] == "rdy" && started_) {
      ops_at_rdy_ = injector.operation_count();
    }
  }

  void classify_new(bool cut_said_end0, const std::vector<std::string>& urcs,
                    ModuleCutTally& tally) {
    if (cut_said_end0) {
      // END 0 reached the host before the cut (it fell while withdrawing
      // the package or rebooting): the next boot may say it again.
      ++tally.new_committed;
      ++tally.after_end;
      return;
    }
    ASSERT_TRUE(has(urcs, "+QIND: \"FOTA\",\"START\"")) << "new firmware with no update URCs";
    const auto start = std::find(urcs.begin(), urcs.end(), "+QIND: \"FOTA\",\"START\"");
    const bool restore =
        start + 1 != urcs.end() && (start + 1)->find("\"RESTORE\"") != std::string::npos;
    expect_update_urcs(urcs, restore);
    const auto ends = m_.named("FOTA_END");
    ASSERT_EQ(ends.size(), 1u);
    const bool updated_at_once = start + 2 != urcs.end() &&
                                 *(start + 1) == "+QIND: \"FOTA\",\"UPDATING\",100" &&
                                 *(start + 2) == kEnd0;
    if (restore) {
      ++tally.new_after_restore;
      EXPECT_EQ(ends[0]["resumed"], true);
    } else if (updated_at_once && ends[0]["resumed"] == true) {
      ++tally.new_committed;
    } else {
      ++tally.new_restarted;
    }
  }

  void check_cgmr(const std::string& version) {
    e2e::Host host(m_.port());
    ASSERT_TRUE(host.is_open());
    const std::string reply = host.command("AT+CGMR");
    EXPECT_NE(reply.find(version), std::string::npos) << reply;
    EXPECT_NE(reply.find("OK"), std::string::npos) << reply;
  }

  // The newest boot record's firmware, every image read back and checked
  // against its SHA-256 (FirmwareStore::load); no fallback to the other slot.
  fota::FirmwareBundle verified_firmware() {
    return m_.on_io([&] {
      auto layout = firmware_layout(m_.module().profile());
      auto store = fota::FirmwareStore::open(m_.module().flash().device(), *layout);
      EXPECT_TRUE(store) << store.error().message;
      if (!store) return fota::FirmwareBundle{};
      auto loaded = (*store)->load();
      EXPECT_TRUE(loaded) << loaded.error().message;
      if (!loaded) return fota::FirmwareBundle{};
      EXPECT_FALSE(loaded->fell_back) << loaded->why;
      for (const auto& record : (*store)->records()) {
        auto read = (*store)->read(record);
        EXPECT_TRUE(read) << "record " << record.version << " (copy " << record.copy
                          << "): " << read.error().message;
      }
      return loaded->bundle;
    });
  }

  void check_files() {
    const auto [ap, modem] = m_.on_io([&] {
      auto& mod = m_.module();
      std::lock_guard ap_lock(mod.ap_fs()->mutex());
      std::lock_guard modem_lock(mod.modem_fs()->mutex());
      auto a = mod.ap_fs()->read_file("/keep.txt");
      auto b = mod.modem_fs()->read_file("/keep_modem.bin");
      return std::pair{a ? *a : Bytes{}, b ? *b : Bytes{}};
    });
    EXPECT_EQ(ap, kApNote) << "the AP file system lost /keep.txt";
    EXPECT_EQ(modem, kModemNote) << "the modem file system lost /keep_modem.bin";
  }

  static bool same_images(const fota::FirmwareBundle& a, const fota::FirmwareBundle& b) {
    if (a.images.size() != b.images.size()) return false;
    for (const auto& image : b.images) {
      const auto* other = a.find(image.name);
      if (!other || other->data != image.data) return false;
    }
    return true;
  }
  static bool has(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
  // Failed assertions so far in the running test: a cut whose checks add
  // to them counts as a failure in the tally.
  static int failed_parts() {
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int failed = 0;
    for (int i = 0; i < result->total_part_count(); ++i)
      failed += result->GetTestPartResult(i).failed();
    return failed;
  }
  bool fail(const std::string& why) {
    ADD_FAILURE() << why;
    return false;
  }

  ModuleHarness m_;
  fota::FirmwareBundle v1_, v2_;
  CutPoint cut_at_{0, nand::CutMode::before};
  bool started_ = false;
  std::uint64_t ops_at_start_ = 0, ops_at_end_ = 0, ops_at_rdy_ = 0, operations_ = 0, end_op_ = 0;
};

inline void print_module_tally(const ModuleCutTally& t, std::uint64_t end_op, double seconds) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "module fota cut campaign: %llu ops (START..RDY, END 0 at op %llu), %llu cuts -> new after "
      "RESTORE %llu, new restarted %llu, new already committed %llu (%llu of them after END 0 "
      "was printed), old %llu, failures %llu (%.2fs)\n",
      u(t.operations), u(end_op), u(t.cuts), u(t.new_after_restore), u(t.new_restarted),
      u(t.new_committed), u(t.after_end), u(t.old_firmware), u(t.failures), seconds);
  std::fflush(stdout);
}

// `sample` 0: every operation in every cut mode.
inline void run_module_cut_campaign(std::uint32_t sample) {
  // The same default as the library campaign (tests/fota/nand_powercut.hpp).
  const std::uint64_t seed = vmodem::testing::test_seed(20261121);
  std::printf("module fota power-cut campaign, %s\n", sample ? "sampled" : "exhaustive");
  const auto start = std::chrono::steady_clock::now();
  ModuleCutCampaign campaign;
  ASSERT_TRUE(campaign.prepare());
  ModuleCutTally tally;
  tally.operations = campaign.operations();
  for (const auto& point : campaign.points(sample, seed))
    campaign.run_cut(point, seed, tally);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  print_module_tally(tally, campaign.end_operation(), took.count());
  EXPECT_EQ(tally.failures, 0u);
  EXPECT_GT(tally.cuts, 0u);
}

}  // namespace vmodem::sim::testing
