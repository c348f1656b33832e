// File-system benchmarks: mount time vs partition size and file count,
// sequential throughput as a ratio of the raw NAND model's (same run),
// write amplification of small-file rewrites, power cuts per second.
#include <chrono>
#include <cstdio>
#include <memory>

#include <benchmark/benchmark.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>

namespace {

using namespace vmodem;

struct Bed {
  explicit Bed(std::uint32_t blocks) {
    nand::Geometry g;
    g.block_count = blocks;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, nand::ChipConfig{});
    (void)fs::FileSystem::format(*chip, cfg);
  }
  std::unique_ptr<fs::FileSystem> mount() { return std::move(*fs::FileSystem::mount(*chip, cfg)); }
  fs::Config cfg;
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
};

std::vector<std::uint8_t> data(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  nand::Rng rng(seed);
  for (auto& b : v)
    b = static_cast<std::uint8_t>(rng.next());
  return v;
}

// Args: partition MB, files (200 bytes .. 4 KB each, in 10 directories).
void BM_Mount(benchmark::State& state) {
  const auto mb = static_cast<std::uint32_t>(state.range(0));
  const auto files = static_cast<std::uint32_t>(state.range(1));
  Bed bed(mb * 8);  // 128 KB blocks
  {
    auto f = bed.mount();
    for (std::uint32_t d = 0; d < 10; ++d)
      (void)f->mkdir("/d" + std::to_string(d));
    for (std::uint32_t i = 0; i < files; ++i)
      (void)f->write_file("/d" + std::to_string(i % 10) + "/f" + std::to_string(i),
                          data(200 + (i * 37) % 3900, i));
  }
  for (auto _ : state) {
    auto f = fs::FileSystem::mount(*bed.chip, bed.cfg, fs::MountOptions{true, {}});
    benchmark::DoNotOptimize(f);
  }
  state.counters["files"] = files;
  state.counters["MB"] = mb;
}
BENCHMARK(BM_Mount)
    ->Args({4, 10})
    ->Args({4, 500})
    ->Args({4, 1000})
    ->Args({32, 10})
    ->Args({32, 1000})
    ->Unit(benchmark::kMillisecond);

constexpr std::size_t kBig = 8u << 20;

// Throughput on the chip's virtual clock (datasheet tR/tPROG/tBERS + bus):
// what a module would see, independent of how fast the model runs.
void virtual_rate(benchmark::State& state, Bed& bed, std::chrono::nanoseconds since, double bytes) {
  const double seconds = std::chrono::duration<double>(bed.chip->virtual_time() - since).count();
  state.counters["virtual_MBps"] = seconds > 0 ? bytes / seconds / 1e6 : 0;
}

// Raw NAND model: program / read whole pages (main + spare) of 64 blocks.
void BM_RawProgram(benchmark::State& state) {
  Bed bed(128);
  const auto page = data(2048, 1);
  std::vector<std::uint8_t> spare(64, 0xA5);
  spare[0] = spare[1] = 0xFF;
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state) {
    for (std::uint32_t b = 0; b < 64; ++b) {
      (void)bed.chip->erase(b);
      for (std::uint32_t p = 0; p < 64; ++p)
        (void)bed.chip->program({b, p}, page, spare);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 64 * 64 * 2048);
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * 64 * 64 * 2048);
}
BENCHMARK(BM_RawProgram)->Unit(benchmark::kMillisecond);

void BM_RawRead(benchmark::State& state) {
  Bed bed(128);
  std::vector<std::uint8_t> page(2048), spare(64);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state) {
    for (std::uint32_t b = 0; b < 64; ++b)
      for (std::uint32_t p = 0; p < 64; ++p)
        (void)bed.chip->read({b, p}, page, spare);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 64 * 64 * 2048);
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * 64 * 64 * 2048);
}
BENCHMARK(BM_RawRead)->Unit(benchmark::kMillisecond);

void BM_FsWrite(benchmark::State& state) {
  Bed bed(128);
  bed.cfg.max_file_size = kBig;
  auto f = bed.mount();
  const auto content = data(kBig, 2);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state) {
    auto h = f->open("/big", fs::kWrite | fs::kCreate | fs::kTruncate);
    for (std::size_t at = 0; at < kBig; at += 65536)
      (void)f->write(*h, {content.data() + at, 65536});
    (void)f->close(*h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * kBig);
}
BENCHMARK(BM_FsWrite)->Unit(benchmark::kMillisecond);

void BM_FsRead(benchmark::State& state) {
  Bed bed(128);
  bed.cfg.max_file_size = kBig;
  auto f = bed.mount();
  (void)f->write_file("/big", data(kBig, 3));
  std::vector<std::uint8_t> buf(65536);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state) {
    auto h = f->open("/big", fs::kRead);
    while (*f->read(*h, buf) > 0) {
    }
    (void)f->close(*h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * kBig);
}
BENCHMARK(BM_FsRead)->Unit(benchmark::kMillisecond);

// 50 files of 100..1000 bytes rewritten 40 times: NAND pages programmed per
// page of user data, GC included.
void BM_SmallFileWriteAmplification(benchmark::State& state) {
  for (auto _ : state) {
    Bed bed(32);
    auto f = bed.mount();
    std::uint64_t user_bytes = 0;
    for (std::uint32_t round = 0; round < 40; ++round) {
      for (std::uint32_t i = 0; i < 50; ++i) {
        const auto d = data(100 + (i * 97 + round * 13) % 900, round * 50 + i);
        (void)f->write_file("/s" + std::to_string(i), d);
        user_bytes += d.size();
      }
    }
    const auto c = f->counters();
    state.counters["pages_per_user_page"] =
        static_cast<double>(c.pages_written) / (static_cast<double>(user_bytes) / 2048.0);
    state.counters["programs_per_rewrite"] = static_cast<double>(c.pages_written) / 2000.0;
    state.counters["gc_copies"] = static_cast<double>(c.gc_pages_copied);
    state.counters["erases"] = static_cast<double>(c.blocks_erased);
  }
}
BENCHMARK(BM_SmallFileWriteAmplification)->Iterations(1)->Unit(benchmark::kMillisecond);

// The exhaustive power-loss loop on one core: roll back, arm a cut, mount,
// run a rewrite workload until the cut, power up, mount, verify.
void BM_PowerCutsPerSecond(benchmark::State& state) {
  Bed bed(12);
  nand::FaultInjector inj(*bed.chip, nullptr, 1);
  {
    auto f = fs::FileSystem::mount(inj, bed.cfg).value();
    for (std::uint32_t i = 0; i < 4; ++i)
      (void)f->write_file("/f" + std::to_string(i), data(3000, i));
  }
  bed.storage->snapshot_begin();
  std::uint64_t n = 1, cuts = 0;
  for (auto _ : state) {
    bed.storage->snapshot_rollback();
    bed.chip->power_up();
    inj.clear_rules();
    inj.reset_operation_count();
    (void)inj.arm_power_cut(n, nand::CutMode::torn_partial);
    n = n % 60 + 1;
    if (auto f = fs::FileSystem::mount(inj, bed.cfg)) {
      for (std::uint32_t i = 0; i < 4; ++i)
        if (!(*f)->write_file("/f" + std::to_string(i), data(5000, 10 + i))) break;
    }
    bed.chip->power_up();
    inj.clear_rules();
    auto f = fs::FileSystem::mount(inj, bed.cfg);
    if (!f) state.SkipWithError("mount failed after a cut");
    for (std::uint32_t i = 0; f && i < 4; ++i)
      benchmark::DoNotOptimize((*f)->read_file("/f" + std::to_string(i)));
    ++cuts;
  }
  state.counters["cuts_per_s"] =
      benchmark::Counter(static_cast<double>(cuts), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PowerCutsPerSecond)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
