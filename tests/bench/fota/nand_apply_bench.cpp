// nand_apply_bench: the module's boot-time update of the 1.7.0 -> 1.7.1
// corpus pair into NAND (fast mode: no datasheet pacing) next to `bspatch`
// on the same pair, both measured in this run. The update includes what
// the module does at power-on: read the staged package and the running
// firmware (SHA-256 checks), apply into the inactive slot with journal
// records, read back and check the target, commit the boot record, withdraw
// the package. bspatch runs as a subprocess (its wall time includes
// process start and file I/O). Medians of kRuns runs, and their ratio.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/fota_area.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/nand_update.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

namespace {

namespace fs = std::filesystem;
using vmodem::fota::FirmwareBundle;
using Bytes = std::vector<std::uint8_t>;
constexpr int kRuns = 9;

fs::path corpus(const std::string& version) {
  return fs::path(FOTA_CORPUS_DIR) / ("esp8266-at-" + version + ".bin");
}

FirmwareBundle bundle_of(const std::string& version) {
  auto data = vmodem::fota::read_file(corpus(version), vmodem::fota::kMaxImageBytes);
  return FirmwareBundle{"ESP8266-AT", version, {{"modem", data ? *data : Bytes{}}}};
}

// A bg95-m3-like NAND: 2 KiB pages, 64-page blocks, the modem partition
// (96 blocks, two 6 MiB slots), mibib for the boot record, an 80-block FOTA area.
struct Nand {
  std::unique_ptr<vmodem::nand::Storage> storage;
  std::unique_ptr<vmodem::nand::SimulatedChip> chip;
  vmodem::fota::FirmwareLayout layout{{{"modem", 68, 96}}, {"mibib", 8, 4}};
  vmodem::nand::PartitionSpec fota{"fota", 270, 80};

  Nand() {
    vmodem::nand::Geometry g;
    g.page_size = 2048;
    g.pages_per_block = 64;
    g.block_count = 512;
    storage = std::move(*vmodem::nand::Storage::create_in_memory(g));
    chip = std::make_unique<vmodem::nand::SimulatedChip>(*storage, vmodem::nand::ChipConfig{});
  }
};

// One boot-time update; true on END 0.
bool nand_update(Nand& nand) {
  auto store = vmodem::fota::FirmwareStore::open(*nand.chip, nand.layout);
  auto area = vmodem::fota::FotaArea::open(*nand.chip, nand.fota);
  if (!store || !area) return false;
  auto update = vmodem::fota::NandUpdate::begin(**store, **area, {});
  return update && *update && (*update)->run() && (*update)->outcome().end_code == 0;
}

double seconds_of(const std::function<bool()>& job) {
  const auto start = std::chrono::steady_clock::now();
  if (!job()) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool run_tool(const std::vector<std::string>& argv) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Setup {
  Nand nand;
  fs::path tmp;
  bool ok = false;
};

bool prepare(Setup& s) {
  const auto v170 = bundle_of("1.7.0"), v171 = bundle_of("1.7.1");
  if (v170.images[0].data.empty() || v171.images[0].data.empty()) return false;
  auto store = vmodem::fota::FirmwareStore::open(*s.nand.chip, s.nand.layout);
  auto area = vmodem::fota::FotaArea::open(*s.nand.chip, s.nand.fota);
  auto package = vmodem::fota::make_package(v170, v171);
  if (!store || !area || !package) return false;
  if (!(*store)->install(v170, nullptr) || !(*area)->stage(package->bytes)) return false;
  s.nand.storage->snapshot_begin();
  s.tmp = fs::temp_directory_path() / ("nand-apply-bench-" + std::to_string(getpid()));
  fs::create_directories(s.tmp);
  s.ok = run_tool({"bsdiff", corpus("1.7.0").string(), corpus("1.7.1").string(),
                   (s.tmp / "p.bsdiff").string()});
  return s.ok;
}

void print_comparison(Setup& s) {
  std::vector<double> ours, theirs;
  for (int i = 0; i < kRuns; ++i) {
    s.nand.storage->snapshot_rollback();
    ours.push_back(seconds_of([&] { return nand_update(s.nand); }));
    theirs.push_back(seconds_of([&] {
      return run_tool({"bspatch", corpus("1.7.0").string(), (s.tmp / "out").string(),
                       (s.tmp / "p.bsdiff").string()});
    }));
  }
  if (*std::min_element(ours.begin(), ours.end()) < 0 ||
      *std::min_element(theirs.begin(), theirs.end()) < 0) {
    std::printf("nand apply bench: a run failed\n");
    return;
  }
  const double o = median(ours), t = median(theirs);
  std::printf("1.7.0->1.7.1, median of %d runs:\n", kRuns);
  std::printf("  module update into NAND (fast mode): %8.2f ms\n", o * 1e3);
  std::printf("  bspatch (subprocess, files)        : %8.2f ms\n", t * 1e3);
  std::printf("  ratio update / bspatch             : %8.2f\n\n", o / t);
}

void BM_NandUpdate(benchmark::State& state, Setup* s) {
  for (auto _ : state) {
    state.PauseTiming();
    s->nand.storage->snapshot_rollback();
    state.ResumeTiming();
    if (!nand_update(s->nand)) return state.SkipWithError("update failed");
  }
}

void BM_Bspatch(benchmark::State& state, Setup* s) {
  for (auto _ : state) {
    if (!run_tool({"bspatch", corpus("1.7.0").string(), (s->tmp / "out").string(),
                   (s->tmp / "p.bsdiff").string()})) {
      return state.SkipWithError("bspatch failed");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Setup setup;
  if (!prepare(setup)) {
    std::printf("nand apply bench: corpus, package or bsdiff unavailable; nothing measured\n");
    return 0;
  }
  print_comparison(setup);
  benchmark::RegisterBenchmark("nand_update/1.7.0->1.7.1", BM_NandUpdate, &setup)
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  benchmark::RegisterBenchmark("bspatch/1.7.0->1.7.1", BM_Bspatch, &setup)
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fs::remove_all(setup.tmp);
  return 0;
}
