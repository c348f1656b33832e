// Power cut at NAND operation n of the boot-time update, for n over every
// operation of an uncut update (exhaustive) or a seeded sample of them
// (nand/campaign.hpp).
// After each cut the module boots again (no cut): the update must end with
// the old or the new firmware running, every image matching its SHA-256,
// the package withdrawn. The tally says how each run ended.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <vmodem/nand/campaign.hpp>

#include "nand_fixture.hpp"
#include "test_seed.hpp"

namespace vmodem::fota::testing {

// The boot-time update under cuts: v1 installed and the v1 -> v2 package
// staged is the rewind point; the action is one boot that runs the update;
// the verdict boots again (no cut) and checks which firmware runs and how
// it got there.
class UpdateCase : public nand::campaign::InjectorCase {
 public:
  UpdateCase() : v1_(synthetic_firmware(1)), v2_(synthetic_firmware(2)) {
    nand_.install(v1_);
    nand_.stage(make_or_die(v1_, v2_));
    nand_.storage().snapshot_begin();
  }
  ~UpdateCase() override { nand_.storage().snapshot_end(); }

  nand::FaultInjector& injector() override { return nand_.injector(); }
  void rewind() override {
    nand_.storage().snapshot_rollback();
    nand_.chip().power_up();
    nand_.injector().clear_rules();
    nand_.injector().reset_operation_count();
  }
  bool act() override {
    first_ = nand_.boot_update();
    return !nand_.chip().powered();
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint& point) override;
  // The uncut update ends with END 0.
  bool uncut_update_works() {
    rewind();
    return nand_.boot_update().end_code == 0;
  }

 private:
  NandFixture nand_;
  fota::FirmwareBundle v1_, v2_;
  NandFixture::Boot first_;
};

inline nand::campaign::Verdict UpdateCase::verify(const nand::campaign::CutPoint& point) {
  using nand::campaign::Verdict;
  nand_.injector().clear_rules();
  nand_.chip().power_up();
  const auto second = nand_.boot_update();
  const auto running = nand_.running();
  const bool withdrawn = nand_.boot_update().events == std::vector<std::string>{"(none)"};
  const bool is_new = running && same_images(running->bundle, v2_);
  const bool is_old = running && same_images(running->bundle, v1_);
  const std::string at = "cut at " + point.id();
  if (!running || (!is_new && !is_old))
    return Verdict::fail("no whole firmware", at + ": " + (running ? "mixed" : running.error()));
  if (!withdrawn) return Verdict::fail("package still staged", at);
  if (first_.cut && second.cut) return Verdict::fail("cut twice", at);
  if (!first_.cut) {
    // The cut fell after the update had ended (e.g. in the final reads).
    return Verdict::pass(is_new ? "new, already committed" : "old firmware");
  }
  if (is_old) {
    if (second.end_code == 0) return Verdict::fail("END 0 but old firmware", at);
    return Verdict::pass("old firmware");
  }
  // END 0 from the boot that resumed, or already from the cut one (the cut
  // fell while the package was being withdrawn).
  const int end = second.end_code != -1 ? second.end_code : first_.end_code;
  if (end != 0) return Verdict::fail("new firmware but END " + std::to_string(end), at);
  if (second.events.size() > 1 && second.events[1].starts_with("RESTORE"))
    return Verdict::pass("new after RESTORE");
  if ((second.events.size() == 3 && second.events[1] == "UPDATING 100") || second.end_code == -1)
    return Verdict::pass("new, already committed");
  return Verdict::pass("new, restarted");
}

// `sample` 0: every operation; otherwise that many distinct operations drawn
// from the seed, in each cut mode.
inline void run_cut_campaigns(std::uint32_t sample) {
  const std::uint64_t seed = vmodem::testing::test_seed(20261121);
  std::printf("fota power-cut campaign, %s\n", sample ? "sampled" : "exhaustive");
  UpdateCase update;
  ASSERT_TRUE(update.uncut_update_works());
  for (const auto mode : {nand::CutMode::before, nand::CutMode::after, nand::CutMode::torn_partial,
                          nand::CutMode::torn_unstable}) {
    nand::campaign::Plan plan;
    plan.modes = {mode};
    plan.sample = sample;
    plan.seed = seed;
    const auto result = nand::campaign::run(update, plan);
    std::printf("fota cut campaign %-13s: %s", std::string(nand::to_string(mode)).c_str(),
                result.describe().c_str());
    EXPECT_EQ(result.failed, 0u) << result.describe();
    EXPECT_GT(result.cuts, 0u);
  }
}

}  // namespace vmodem::fota::testing
