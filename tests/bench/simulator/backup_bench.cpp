// Backup and restore benchmarks (issue 5), on an in-memory BG95-M3 module
// flash in fast mode (no NAND pacing), booted through the module's own
// file-system boot:
//  * AT+QPRTPARA=1 and =11 with a full backup data partition (the file
//    system filled with incompressible files until the archive nearly fills
//    it), and the boot-time restore of that backup;
//  * each next to its baseline measured in the same run: copying the same
//    page count through the NAND model (erase + program + read of those
//    pages on the same partition of the same chip);
//  * the exhaustive power-cut run over =1: cuts per second on one core, each
//    cut = power cut at operation k, power up, boot through the probe points
//    (both file systems, the engine's decision), verify (mounted check, the
//    live tree compared byte for byte with the recorded one, counters,
//    backup_valid) and, with content:1, also what the backup holds: a forced
//    restore of every valid backup, a second boot and its tree compared (as
//    the test campaigns verify); each cut reached by branching off one uncut
//    =1, next to reaching it by replaying =1 up to it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <vmodem/nand/rng.hpp>

#include "campaign.hpp"
#include "module_rig.hpp"

namespace {

using namespace vmodem;
using sim::testing::Side;

constexpr std::uint64_t kSeed = 42;

// This thread's CPU time: the machine is shared (2 cores, other builds), so
// every figure here is CPU time on one core, operation and baseline alike.
double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// The module flash with `side`'s file system filled until its backup nearly
// fills the data partition (the next 32 KB file would not fit).
struct FullRig {
  explicit FullRig(Side which) : side(which) {
    spdlog::set_level(spdlog::level::off);
    rig = std::move(*sim::testing::ModuleRig::create(fs::PowerLossMode::real, kSeed));
    (void)rig->power_on();
    nand::Rng rng(kSeed);
    fs::FileSystem& fs = *rig->file_system(side);
    (void)fs.mkdir("/fill");
    touch(1000);  // the stamp the benchmarks rewrite, counted in the fill
    for (int i = 0;; ++i) {
      std::vector<std::uint8_t> bytes(32 * 1024);
      for (auto& b : bytes)
        b = static_cast<std::uint8_t>(rng.next());
      const std::string path = "/fill/f" + std::to_string(i);
      if (!fs.write_file(path, bytes)) break;
      if (!rig->backup(side)) {
        (void)fs.unlink(path);
        break;
      }
    }
    if (auto ok = rig->backup(side); !ok)
      std::fprintf(stderr, "backup: %s\n", ok.error().message().c_str());
    info = rig->engine(side)->info();
  }

  // The baseline: erase + program + read of `pages` pages through the same
  // device stack (injector, chip, storage) of the same chip, in the FOTA
  // area (idle here, and big enough for any backup).
  double copy_seconds(std::uint32_t pages) {
    const auto* fota = rig->profile().find_role(sim::PartitionRole::fota);
    auto part = std::move(*rig->flash().partition(fota->spec.name));
    const auto& g = part->geometry();
    std::vector<std::uint8_t> main(g.page_size, 0x5A), spare(g.spare_size, 0xFF), back(g.page_size);
    const double start = cpu_now();
    for (std::uint32_t p = 0; p < pages; ++p) {
      const nand::PageAddr a{p / g.pages_per_block, p % g.pages_per_block};
      if (a.page == 0) (void)part->erase(a.block);
      main[0] = static_cast<std::uint8_t>(p);
      (void)part->program(a, main, spare);
    }
    for (std::uint32_t p = 0; p < pages; ++p) {
      const nand::PageAddr a{p / g.pages_per_block, p % g.pages_per_block};
      benchmark::DoNotOptimize(part->read(a, back, {}));
    }
    return cpu_now() - start;
  }

  // The host changes a small file: the next backup reads the whole tree
  // again and compresses that file anew (the unchanged files' compressed
  // segments are reused, see backup_archive.cpp).
  void touch(int n) {
    const std::string text = "stamp " + std::to_string(n) + "\n";
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    (void)rig->file_system(side)->write_file("/fill/stamp", bytes);
  }

  Side side;
  std::unique_ptr<sim::testing::ModuleRig> rig;
  fs::BackupInfo info;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void report(benchmark::State& state, double op_s, double base_s, std::uint32_t pages) {
  state.counters["ms"] = op_s * 1e3;
  state.counters["baseline_ms"] = base_s * 1e3;
  state.counters["x_baseline"] = op_s / base_s;
  state.counters["pages"] = pages;
}

// AT+QPRTPARA=1 (modem) / =11 (AP) with a full backup partition, each after
// the host changed one small file: the whole tree is read, compared with the
// last image's entries and written to the data partition; only the changed
// file is compressed. first_ms: the same with nothing cached — the first
// backup after a power-up (compressed segments live per thread, so a fresh
// thread starts cold).
void BM_BackupFull(benchmark::State& state) {
  FullRig full(state.range(0) ? Side::ap : Side::modem);
  const std::uint32_t pages = full.info.image_bytes / 2048 + 1;
  std::vector<double> op, base, first;
  int n = 0;
  for (int i = 0; i < 5; ++i) {
    full.touch(++n);
    std::thread([&] {
      const double t0 = cpu_now();
      (void)full.rig->backup(full.side);
      first.push_back(cpu_now() - t0);
    }).join();
  }
  for (auto _ : state) {
    full.touch(++n);
    const double t0 = cpu_now();
    if (auto ok = full.rig->backup(full.side); !ok)
      state.SkipWithError(ok.error().message().c_str());
    op.push_back(cpu_now() - t0);
    base.push_back(full.copy_seconds(pages));
  }
  report(state, median(op), median(base), pages);
  state.counters["first_ms"] = median(first) * 1e3;
  state.counters["image_KB"] = full.info.image_bytes / 1024.0;
  state.counters["blocks"] = full.info.image_blocks;
}
BENCHMARK(BM_BackupFull)->Arg(0)->Arg(1)->Iterations(15)->Unit(benchmark::kMillisecond);

// The boot-time restore of that full backup (forced with =3 / =13): the
// boot of the file system that restores it. Baseline: the pages the
// restored file system occupies.
void BM_BootRestoreFull(benchmark::State& state) {
  FullRig full(state.range(0) ? Side::ap : Side::modem);
  std::vector<double> op, base;
  std::uint32_t pages = 0;
  int n = 0;
  for (auto _ : state) {
    // A new image each time (nothing cached from the previous restore).
    full.touch(++n);
    (void)full.rig->backup(full.side);
    (void)full.rig->schedule_restore(full.side);
    full.rig->power_off();
    full.rig->restore_power();
    full.rig->drop();
    const double t0 = cpu_now();
    auto booted = sim::boot_file_system(full.rig->env(), sim::testing::role_of(full.side), false);
    op.push_back(cpu_now() - t0);
    if (booted.outcome != sim::FsBootOutcome::restored) state.SkipWithError("no restore");
    pages = booted.fs->statfs()->pages_in_use;
    booted = {};
    base.push_back(full.copy_seconds(pages));
    (void)full.rig->power_on();
  }
  report(state, median(op), median(base), pages);
}
BENCHMARK(BM_BootRestoreFull)->Arg(0)->Arg(1)->Iterations(9)->Unit(benchmark::kMillisecond);

// The exhaustive power-cut run over =1 (modem FS, factory content plus the
// host's changes): a cut at every operation. Args: 0 real mode, 1 safe; how
// each cut is reached: 1 branched off one uncut =1 (the campaigns' way),
// 0 replaying =1 from the booted module up to it (the baseline); content: 1
// also restores every valid backup and compares its tree.
void BM_BackupPowerCutCampaign(benchmark::State& state) {
  spdlog::set_level(spdlog::level::off);
  sim::testing::CampaignOptions o;
  o.mode = state.range(0) ? fs::PowerLossMode::safe : fs::PowerLossMode::real;
  o.branch = state.range(1) != 0;
  o.scenario = sim::testing::Scenario::backup;
  o.seed = kSeed;
  o.full_fsck = false;                    // the mounted check (probes 5-9) after the mount's 1-6, 9
  o.check_content = state.range(2) != 0;  // restore every valid backup and compare
  o.backup_after = false;
  o.verify_other = false;  // booted and checked, not compared: =1 never touches it
  auto campaign = std::move(*sim::testing::Campaign::prepare(o));
  std::vector<double> rates, wall_rates;
  std::uint64_t cuts = 0;
  for (auto _ : state) {
    const auto r = campaign->run();
    if (r.failed) state.SkipWithError(r.describe(o).c_str());
    rates.push_back(static_cast<double>(r.cuts) / r.cpu_seconds);
    wall_rates.push_back(static_cast<double>(r.cuts) / r.seconds);
    cuts = r.cuts;
  }
  // One thread: cuts per CPU-second of that thread is cuts per second on
  // one core, whatever else the machine runs; the wall-clock rate too.
  state.counters["cuts_per_s"] = median(rates);
  state.counters["cuts_per_wall_s"] = median(wall_rates);
  state.counters["cuts"] = static_cast<double>(cuts);
  state.counters["ops"] = static_cast<double>(campaign->operations());
}
BENCHMARK(BM_BackupPowerCutCampaign)
    ->ArgNames({"safe", "branch", "content"})
    ->Args({0, 1, 0})
    ->Args({0, 0, 0})
    ->Args({1, 1, 0})
    ->Args({1, 0, 0})
    ->Args({0, 1, 1})
    ->Args({1, 1, 1})
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
