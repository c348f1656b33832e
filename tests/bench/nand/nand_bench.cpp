// NAND model throughput against its physical baseline, memcpy of the same
// bytes over the same working set, measured in the same run. Prints medians
// of repeated runs and the ratios the issue sets targets for:
//   program+read on the RAM backend >= 25% of memcpy
//   snapshot rollback after touching 10 blocks < 1% of copying the device
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

#include <benchmark/benchmark.h>

#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

namespace {

using namespace vmodem::nand;

Geometry bench_geometry() {
  Geometry g;
  g.block_count = 2048;  // BG95-M3: 2 Gb
  return g;
}

std::filesystem::path image_path() {
  return std::filesystem::temp_directory_path() /
         ("vmodem-bench-" + std::to_string(::getpid()) + ".img");
}

// A device whose memory has been touched once, as in any run past its first
// seconds: first-touch page faults of a fresh mapping are the kernel's cost,
// not the model's (the memcpy baseline's buffer is pre-faulted the same way).
std::unique_ptr<Storage> make_storage(bool mmap_backend) {
  std::unique_ptr<Storage> storage;
  if (mmap_backend) {
    std::filesystem::remove(image_path());
    storage = Storage::create_image(image_path(), bench_geometry()).value();
  } else {
    storage = Storage::create_in_memory(bench_geometry()).value();
  }
  const Geometry g = storage->geometry();
  std::vector<std::uint8_t> zeros(g.raw_page_size(), 0);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p)
      storage->set_cells({b, p}, 0, zeros);
    storage->erase_cells(b);
  }
  return storage;
}

std::vector<std::uint8_t> data_page(std::size_t n) {
  std::vector<std::uint8_t> bytes(n);
  Rng rng(1);
  for (auto& b : bytes)
    b = static_cast<std::uint8_t>(rng.next());
  return bytes;
}

// Baseline: memcpy of page-sized chunks through a working set as large as the
// device's cell array, twice per "page" (one write, one read-back).
void BM_Memcpy(benchmark::State& state) {
  const Geometry g = bench_geometry();
  const std::size_t raw = g.raw_page_size();
  const std::size_t pages = g.page_count();
  std::vector<std::uint8_t> device(pages * raw, 0xFF);
  auto page = data_page(raw);
  std::vector<std::uint8_t> out(raw);
  std::size_t i = 0;
  for (auto _ : state) {
    std::memcpy(device.data() + i * raw, page.data(), raw);
    std::memcpy(out.data(), device.data() + i * raw, raw);
    benchmark::DoNotOptimize(out.data());
    i = (i + 1) % pages;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * raw));
}
BENCHMARK(BM_Memcpy);

// One page cycle: program a page, read it back (erasing a block each time a
// block fills, as a real workload must).
void BM_ProgramRead(benchmark::State& state) {
  auto storage = make_storage(state.range(0) == 1);
  SimulatedChip chip(*storage, {});
  const Geometry g = storage->geometry();
  auto main = data_page(g.page_size);
  auto spare = data_page(g.spare_size);
  spare[0] = spare[1] = 0xFF;
  std::vector<std::uint8_t> out_main(g.page_size), out_spare(g.spare_size);
  std::uint64_t page = 0;
  for (auto _ : state) {
    const PageAddr addr{static_cast<std::uint32_t>(page / g.pages_per_block),
                        static_cast<std::uint32_t>(page % g.pages_per_block)};
    if (addr.page == 0) (void)chip.erase(addr.block);
    (void)chip.program(addr, main, spare);
    auto r = chip.read(addr, out_main, out_spare);
    benchmark::DoNotOptimize(r);
    page = (page + 1) % g.page_count();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * g.raw_page_size()));
  if (state.range(0) == 1) std::filesystem::remove(image_path());
}
BENCHMARK(BM_ProgramRead)->Arg(0)->Arg(1)->ArgNames({"mmap"});

void BM_Read(benchmark::State& state) {
  auto storage = make_storage(state.range(0) == 1);
  SimulatedChip chip(*storage, {});
  const Geometry g = storage->geometry();
  auto main = data_page(g.page_size);
  const std::uint32_t blocks = 64;
  for (std::uint32_t b = 0; b < blocks; ++b) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p)
      (void)chip.program({b, p}, main, {});
  }
  std::vector<std::uint8_t> out(g.page_size), spare(g.spare_size);
  std::uint64_t page = 0;
  for (auto _ : state) {
    auto r = chip.read({static_cast<std::uint32_t>(page / g.pages_per_block),
                        static_cast<std::uint32_t>(page % g.pages_per_block)},
                       out, spare);
    benchmark::DoNotOptimize(r);
    page = (page + 1) % (std::uint64_t{blocks} * g.pages_per_block);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g.raw_page_size()));
  if (state.range(0) == 1) std::filesystem::remove(image_path());
}
BENCHMARK(BM_Read)->Arg(0)->Arg(1)->ArgNames({"mmap"});

// The ECC model's price: reading a page whose sectors carry correctable bit
// errors (the decode path) instead of a clean page (the copy path).
void BM_ReadCorrected(benchmark::State& state) {
  auto storage = make_storage(false);
  SimulatedChip chip(*storage, {});
  const Geometry g = storage->geometry();
  auto main = data_page(g.page_size);
  for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
    (void)chip.program({1, p}, main, {});
    for (std::uint32_t s = 0; s < 4; ++s)
      (void)chip.inject_bit_flips({1, p}, 3, s);
  }
  std::vector<std::uint8_t> out(g.page_size), spare(g.spare_size);
  std::uint32_t page = 0;
  for (auto _ : state) {
    auto r = chip.read({1, page}, out, spare);
    benchmark::DoNotOptimize(r);
    page = (page + 1) % g.pages_per_block;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g.raw_page_size()));
}
BENCHMARK(BM_ReadCorrected);

// Rollback after a run that erased and wrote N blocks.
void BM_Rollback(benchmark::State& state) {
  auto storage = make_storage(false);
  SimulatedChip chip(*storage, {});
  const Geometry g = storage->geometry();
  auto main = data_page(g.page_size);
  // Give the device content worth restoring.
  for (std::uint32_t b = 0; b < 256; ++b) {
    for (std::uint32_t p = 0; p < 16; ++p)
      (void)chip.program({b, p}, main, {});
  }
  storage->snapshot_begin();
  const auto touched = static_cast<std::uint32_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    for (std::uint32_t b = 0; b < touched; ++b) {
      (void)chip.erase(b * 7 % 256);
      for (std::uint32_t p = 0; p < 32; ++p)
        (void)chip.program({b * 7 % 256, p}, main, {});
    }
    state.ResumeTiming();
    storage->snapshot_rollback();
  }
}
BENCHMARK(BM_Rollback)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->ArgNames({"blocks"})
    ->Unit(benchmark::kMicrosecond);

// What rollback replaces: copying the whole device back.
void BM_CopyWholeDevice(benchmark::State& state) {
  const Geometry g = bench_geometry();
  const std::size_t bytes = g.page_count() * g.raw_page_size();
  std::vector<std::uint8_t> a(bytes, 1), b(bytes, 2);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), bytes);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_CopyWholeDevice)->Unit(benchmark::kMillisecond);

// Collects the median of each benchmark to print the ratios at the end.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Aggregate || run.aggregate_name != "median") continue;
      const std::string name = run.run_name.str();
      ns_[name] = run.GetAdjustedRealTime() * multiplier(run.time_unit);
      const auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) bps_[name] = it->second.value;
    }
  }
  void print_summary() const {
    auto gbps = [&](const std::string& n) { return value(bps_, n) / 1e9; };
    const double base = gbps("BM_Memcpy");
    std::printf("\n=== NAND model vs. memcpy of the same bytes (medians) ===\n");
    std::printf("memcpy baseline (write+read-back)  %8.2f GB/s\n", base);
    for (const char* backend : {"mmap:0", "mmap:1"}) {
      const std::string label = std::string(backend) == "mmap:0" ? "RAM " : "mmap";
      const double pr = gbps(std::string("BM_ProgramRead/") + backend);
      std::printf("%s program+read                   %8.2f GB/s  %5.1f%% of memcpy%s\n",
                  label.c_str(), pr, 100 * pr / base, label == "RAM " ? "  (target >= 25%)" : "");
      const double r = gbps(std::string("BM_Read/") + backend);
      std::printf("%s read                           %8.2f GB/s  %8.0f ns/page\n", label.c_str(), r,
                  value(ns_, std::string("BM_Read/") + backend));
    }
    const double clean = value(ns_, "BM_Read/mmap:0");
    const double corrected = value(ns_, "BM_ReadCorrected");
    std::printf(
        "ECC model: clean read %.0f ns/page, read correcting 12 bits %.0f ns/page (x%.1f)\n", clean,
        corrected, corrected / clean);
    const double full = value(ns_, "BM_CopyWholeDevice");
    std::printf("copy whole device (%.0f MB)         %8.2f ms\n",
                bench_geometry().page_count() * bench_geometry().raw_page_size() / 1e6, full / 1e6);
    for (const char* n : {"1", "10", "100"}) {
      const double t = value(ns_, std::string("BM_Rollback/blocks:") + n);
      std::printf("rollback after %3s blocks touched  %8.1f us  %6.3f%% of a device copy%s\n", n,
                  t / 1e3, 100 * t / full, std::string(n) == "10" ? "  (target < 1%)" : "");
    }
  }

 private:
  static double multiplier(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kNanosecond:
        return 1;
      case benchmark::kMicrosecond:
        return 1e3;
      case benchmark::kMillisecond:
        return 1e6;
      case benchmark::kSecond:
        return 1e9;
    }
    return 1;
  }
  static double value(const std::map<std::string, double>& m, const std::string& key) {
    const auto it = m.find(key);
    return it == m.end() ? 0.0 : it->second;
  }
  std::map<std::string, double> ns_, bps_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::string repetitions = "--benchmark_repetitions=5";
  bool has_repetitions = false;
  for (int i = 1; i < argc; ++i)
    has_repetitions |= std::string(argv[i]).starts_with("--benchmark_repetitions");
  if (!has_repetitions) args.push_back(repetitions.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
