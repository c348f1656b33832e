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

#include <vmodem/fota/fota_area.hpp>
#include <vmodem/nand/campaign.hpp>

#include "module_fixture.hpp"
#include "test_seed.hpp"

namespace vmodem::sim::testing {

// The boot-time update of a real module under cuts (nand/campaign.hpp).
// Operations count from the update's START (the cut is armed there, from
// the event hook); rewind() rolls the flash back to "package staged, module
// off"; the verdict is what the gtest checks below say about the boot after
// the cut (a check that fails makes the cut a failure).
class ModuleCutCampaign : public nand::campaign::Case {
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
      // One lock at a time (a full expression would hold the first).
      const bool ap = mod.ap_fs()->lock()->write_file("/keep.txt", kApNote).has_value();
      const bool modem =
          mod.modem_fs()->lock()->write_file("/keep_modem.bin", kModemNote).has_value();
      return ap && modem;
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
      mod.flash().lock().chip().power_up();
      bool ok = false;
      if (auto spec = fota_partition(mod.profile())) {
        auto area = fota::FotaArea::open(mod.flash().device(), *spec);
        ok = area && (*area)->stage(package).has_value();
      }
      mod.flash().lock().chip().cut_power();
      mod.flash().lock().storage().snapshot_begin();
      return ok;
    });
    if (!staged) return fail("staging the package failed");
    m_.on_io([&] {
      m_.set_hook([this](const nlohmann::json& e) { on_event(e); });
      return 0;
    });
    // The uncut update: its operation count bounds the campaign.
    rewind();
    if (act() || m_.count("FOTA_END") != 1 || m_.named("FOTA_END")[0]["code"] != 0) {
      return fail("the uncut update did not end with END 0 and APP RDY");
    }
    operations_ = ops_at_rdy_ - ops_at_start_;
    end_op_ = ops_at_end_ - ops_at_start_;
    return operations_ > 0;
  }

  // START .. RDY of the uncut update (prepare() measured it).
  std::uint64_t update_operations() const { return operations_; }
  // The operation (after START) at which the uncut update printed END 0.
  std::uint64_t end_operation() const { return end_op_; }
  // The update itself: up to END 0 and the few operations after it that
  // withdraw the package (the reboot onto the new firmware is left to the
  // full tier).
  std::uint64_t update_proper() const { return std::min(operations_, end_op_ + kWithdrawOps); }

  void rewind() override {
    m_.on_io([&] {
      auto& mod = m_.module();
      if (mod.power_state() != PowerState::off) (void)mod.power_off();
      mod.flash().lock().storage().snapshot_rollback();
      mod.flash().lock().faults().clear_rules();
      cut_at_ = {0, nand::CutMode::before};
      started_ = false;
      return 0;
    });
  }
  void arm(const nand::campaign::CutPoint& point) override {
    m_.on_io([&] {
      cut_at_ = point;
      return 0;
    });
  }
  // Powers on (the hook arms the cut at START) and waits until the module is
  // off (cut) or APP RDY.
  bool act() override {
    m_.clear_events();
    m_.power_on();
    last_boot_ = wait_off_or_app_rdy();
    return !last_boot_.reached_app_rdy;
  }
  std::uint64_t operations() override { return ops_at_rdy_ - ops_at_start_; }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint& point) override {
    SCOPED_TRACE("cut at " + point.id() + " of " + std::to_string(operations_) +
                 " operations after START");
    const int failed_before = failed_parts();
    const std::string outcome = check_cut();
    if (failed_parts() != failed_before)
      return nand::campaign::Verdict::fail(outcome, "see the failed checks above");
    return nand::campaign::Verdict::pass(outcome);
  }

  // The boot after the cut, checked with gtest; returns the outcome.
  std::string check_cut() {
    const auto cut_urcs = m_.urcs();
    const bool cut_said_end0 = has(cut_urcs, kEnd0);
    if (!last_boot_.saw_start) ADD_FAILURE() << "the cut boot did not start the update";
    m_.clear_events();
    started_ = false;
    // Power back, no cut armed.
    m_.on_io([&] {
      m_.module().flash().lock().faults().clear_rules();
      return 0;
    });
    m_.power_on();
    if (!m_.wait_power(PowerState::app_rdy, 20s)) {
      ADD_FAILURE() << "never APP RDY after the cut";
      return "no APP RDY";
    }
    const auto urcs = m_.urcs();
    const std::string version = m_.on_io([&] { return m_.module().firmware_version(); });
    check_cgmr(version);
    const auto fw = verified_firmware();
    check_files();
    const bool is_new = version == v2_.version && same_images(fw, v2_);
    const bool is_old = version == v1_.version && same_images(fw, v1_);
    EXPECT_TRUE(is_new || is_old) << "running " << version << ", images of neither version";
    std::string outcome = "neither firmware";
    if (is_old) {
      outcome = "old firmware";
      EXPECT_FALSE(cut_said_end0 || has(urcs, kEnd0)) << "END 0 but the old firmware runs";
    } else if (is_new) {
      outcome = classify_new(cut_said_end0, urcs);
    }
    // The package is withdrawn: the next reset boots plainly.
    m_.clear_events();
    m_.on_io([&] { return m_.module().reset(); });
    EXPECT_TRUE(m_.wait_power(PowerState::app_rdy, 20s));
    EXPECT_EQ(m_.count("FOTA_START"), 0u) << "the package is still staged";
    return outcome;
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

  // After the power-on: the boot ends off (cut) or at APP RDY.
  BootSeen wait_off_or_app_rdy() {
    BootSeen seen;
    seen.reached_app_rdy =
        m_.wait_power_event({PowerState::off, PowerState::app_rdy}) == PowerState::app_rdy;
    seen.saw_start = m_.count("FOTA_START") > 0;
    return seen;
  }

  // On the module's thread, before the event is recorded.
  void on_event(const nlohmann::json& e) {
    auto flash = m_.module().flash().lock();  // no NAND operation runs in here
    auto& injector = flash.faults();
    if (e["event"] == "FOTA_START" && !started_) {
      started_ = true;
      ops_at_start_ = injector.operation_count();
      // Armed once: the boot after the cut runs with no cut.
      if (cut_at_.operation > 0) (void)injector.arm_power_cut(cut_at_.operation, cut_at_.mode);
      cut_at_.operation = 0;
    } else if (e["event"] == "FOTA_END" && started_) {
      ops_at_end_ = injector.operation_count();
    } else if (e["event"] == "POWER_STATE" && e["data"]["state"] == "rdy" && started_) {
      ops_at_rdy_ = injector.operation_count();
    }
  }

  std::string classify_new(bool cut_said_end0, const std::vector<std::string>& urcs) {
    if (cut_said_end0) {
      // END 0 reached the host before the cut (it fell while withdrawing
      // the package or rebooting): the next boot may say it again.
      return "new, already committed (END 0 before the cut)";
    }
    EXPECT_TRUE(has(urcs, "+QIND: \"FOTA\",\"START\"")) << "new firmware with no update URCs";
    const auto start = std::find(urcs.begin(), urcs.end(), "+QIND: \"FOTA\",\"START\"");
    if (start == urcs.end()) return "new firmware, no URCs";
    const bool restore =
        start + 1 != urcs.end() && (start + 1)->find("\"RESTORE\"") != std::string::npos;
    expect_update_urcs(urcs, restore);
    const auto ends = m_.named("FOTA_END");
    EXPECT_EQ(ends.size(), 1u);
    if (ends.size() != 1) return "new firmware, END count";
    const bool updated_at_once = start + 2 != urcs.end() &&
                                 *(start + 1) == "+QIND: \"FOTA\",\"UPDATING\",100" &&
                                 *(start + 2) == kEnd0;
    if (restore) {
      EXPECT_EQ(ends[0]["resumed"], true);
      return "new after RESTORE";
    }
    if (updated_at_once && ends[0]["resumed"] == true) return "new, already committed";
    return "new, restarted";
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
      auto a = mod.ap_fs()->lock()->read_file("/keep.txt");
      auto b = mod.modem_fs()->lock()->read_file("/keep_modem.bin");
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
  nand::campaign::CutPoint cut_at_{0, nand::CutMode::before};
  BootSeen last_boot_;
  bool started_ = false;
  std::uint64_t ops_at_start_ = 0, ops_at_end_ = 0, ops_at_rdy_ = 0, operations_ = 0, end_op_ = 0;
};

// `sample` 0: every operation in every cut mode; else `sample` cuts per mode
// at operations of the update proper, drawn from the seed.
inline void run_module_cut_campaign(std::uint32_t sample) {
  // The same default as the library campaign (tests/fota/nand_powercut.hpp).
  const std::uint64_t seed = vmodem::testing::test_seed(20261121);
  ModuleCutCampaign campaign;
  ASSERT_TRUE(campaign.prepare());
  nand::campaign::Plan plan;
  plan.modes = {nand::CutMode::before, nand::CutMode::after, nand::CutMode::torn_partial,
                nand::CutMode::torn_unstable};
  plan.sample = sample;
  plan.seed = seed;
  if (sample > 0) plan.last = campaign.update_proper();
  const auto result = nand::campaign::run(campaign, plan);
  std::printf("module fota cut campaign (%s, END 0 at operation %llu after START): %s",
              sample ? "sampled" : "exhaustive",
              static_cast<unsigned long long>(campaign.end_operation()), result.describe().c_str());
  std::fflush(stdout);
  EXPECT_EQ(result.operations, campaign.update_operations());
  EXPECT_EQ(result.failed, 0u) << result.describe();
  EXPECT_GT(result.cuts, 0u);
}

}  // namespace vmodem::sim::testing
