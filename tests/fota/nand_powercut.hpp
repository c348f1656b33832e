// Power cut at NAND operation n of the boot-time update, for n over every
// operation of an uncut update (exhaustive) or a seeded sample of them.
// After each cut the module boots again (no cut): the update must end with
// the old or the new firmware running, every image matching its SHA-256,
// the package withdrawn. The tally says how each run ended.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "nand_fixture.hpp"

namespace vmodem::fota::testing {

inline std::uint64_t cut_seed_from_env() {
  const char* s = std::getenv("VMODEM_SEED");
  return s ? std::strtoull(s, nullptr, 0) : 20261121;
}

struct CutTally {
  std::uint64_t operations = 0, cuts = 0;
  std::uint64_t new_after_restore = 0;  // journal found: RESTORE, then END 0
  std::uint64_t new_from_start = 0;     // cut before the first journal record: restarted
  std::uint64_t new_committed = 0;      // cut after the switch: END 0 at once
  std::uint64_t old_firmware = 0;
  std::uint64_t failures = 0;
};

// `sample` 0: every operation; otherwise that many distinct operations drawn
// from `seed`.
inline CutTally run_cut_campaign(nand::CutMode mode, std::uint32_t sample, std::uint64_t seed) {
  NandFixture nand;
  const auto v1 = synthetic_firmware(1), v2 = synthetic_firmware(2);
  nand.install(v1);
  nand.stage(make_or_die(v1, v2));
  nand.storage().snapshot_begin();
  nand.injector().reset_operation_count();
  CutTally tally;
  if (nand.boot_update().end_code != 0) {
    ADD_FAILURE() << "the uncut update failed";
    return tally;
  }
  tally.operations = nand.injector().operation_count();

  std::vector<std::uint64_t> points;
  if (sample == 0 || sample >= tally.operations) {
    for (std::uint64_t n = 1; n <= tally.operations; ++n)
      points.push_back(n);
  } else {
    std::mt19937_64 rng(seed);
    std::set<std::uint64_t> chosen;
    while (chosen.size() < sample)
      chosen.insert(rng() % tally.operations + 1);
    points.assign(chosen.begin(), chosen.end());
  }
  for (const auto n : points) {
    nand.storage().snapshot_rollback();
    nand.chip().power_up();
    nand.injector().clear_rules();
    nand.injector().reset_operation_count();
    if (!nand.injector().arm_power_cut(n, mode)) {
      ++tally.failures;
      continue;
    }
    auto first = nand.boot_update();
    nand.injector().clear_rules();
    nand.chip().power_up();
    ++tally.cuts;
    auto second = nand.boot_update();
    auto running = nand.running();
    const bool withdrawn = nand.boot_update().events == std::vector<std::string>{"(none)"};
    const bool is_new = running && same_images(running->bundle, v2);
    const bool is_old = running && same_images(running->bundle, v1);
    if (!running || (!is_new && !is_old) || !withdrawn || (first.cut && second.cut)) {
      ++tally.failures;
      ADD_FAILURE() << "cut at operation " << n << " (" << nand::to_string(mode) << ", seed "
                    << seed << "): " << (running ? "" : running.error())
                    << (withdrawn ? "" : " package still staged");
      continue;
    }
    if (!first.cut) {
      // The cut fell after the update had ended (e.g. in the final reads).
      is_new ? ++tally.new_committed : ++tally.old_firmware;
      continue;
    }
    if (is_old) {
      ++tally.old_firmware;
      if (second.end_code == 0) ADD_FAILURE() << "END 0 but old firmware, cut at " << n;
      continue;
    }
    // END 0 from the boot that resumed, or already from the cut one (the cut
    // fell while the package was being withdrawn).
    const int end = second.end_code != -1 ? second.end_code : first.end_code;
    if (end != 0) ADD_FAILURE() << "new firmware but END " << end << ", cut at " << n;
    const bool restored = second.events.size() > 1 && second.events[1].starts_with("RESTORE");
    const bool committed =
        (second.events.size() == 3 && second.events[1] == "UPDATING 100") || second.end_code == -1;
    if (restored) {
      ++tally.new_after_restore;
    } else if (committed) {
      ++tally.new_committed;
    } else {
      ++tally.new_from_start;
    }
  }
  nand.storage().snapshot_end();
  return tally;
}

inline void print_tally(nand::CutMode mode, const CutTally& t, double seconds) {
  std::printf(
      "fota cut campaign %-13s: %llu ops, %llu cuts -> new after RESTORE %llu, new restarted "
      "%llu, new already committed %llu, old %llu, failures %llu (%.2fs)\n",
      std::string(nand::to_string(mode)).c_str(), static_cast<unsigned long long>(t.operations),
      static_cast<unsigned long long>(t.cuts), static_cast<unsigned long long>(t.new_after_restore),
      static_cast<unsigned long long>(t.new_from_start),
      static_cast<unsigned long long>(t.new_committed),
      static_cast<unsigned long long>(t.old_firmware), static_cast<unsigned long long>(t.failures),
      seconds);
}

inline void run_cut_campaigns(std::uint32_t sample) {
  const std::uint64_t seed = cut_seed_from_env();
  std::printf("fota power-cut campaign, %s, seed %llu (replay with VMODEM_SEED=%llu)\n",
              sample ? "sampled" : "exhaustive", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  for (const auto mode : {nand::CutMode::before, nand::CutMode::after, nand::CutMode::torn_partial,
                          nand::CutMode::torn_unstable}) {
    const auto start = std::chrono::steady_clock::now();
    const auto tally = run_cut_campaign(mode, sample, seed);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    print_tally(mode, tally, took.count());
    EXPECT_EQ(tally.failures, 0u);
    EXPECT_GT(tally.cuts, 0u);
  }
}

}  // namespace vmodem::fota::testing
