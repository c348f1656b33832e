// File-system benchmarks: mount time vs partition size and file count,
// sequential throughput as a ratio of the raw NAND model's (same run),
// write amplification of small-file rewrites, power cuts per second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <span>
#include <vector>

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

// The raw baseline does what the file system must do for an 8 MB file:
// program (erasing first) / read the same number of whole pages (main +
// spare) from / into the same buffers, through the same nand::Device.
constexpr std::uint32_t kPages = kBig / 2048;
constexpr std::size_t kChunk = 65536;  // bytes per write()/read() call

std::vector<std::uint8_t> raw_spare() {
  std::vector<std::uint8_t> spare(64, 0xA5);
  spare[0] = spare[1] = 0xFF;  // bad-block marker stays erased
  return spare;
}

void raw_program(nand::Device& dev, std::span<const std::uint8_t> content) {
  const auto spare = raw_spare();
  const std::uint32_t ppb = dev.geometry().pages_per_block;
  for (std::uint32_t i = 0; i < kPages; ++i) {
    if (i % ppb == 0) (void)dev.erase(i / ppb);
    (void)dev.program({i / ppb, i % ppb}, content.subspan(std::size_t{i} * 2048, 2048), spare);
  }
}

void raw_read(nand::Device& dev, std::span<std::uint8_t> buf) {
  std::vector<std::uint8_t> spare(64);
  const std::uint32_t ppb = dev.geometry().pages_per_block;
  for (std::uint32_t i = 0; i < kPages; ++i) {
    const std::size_t at = (std::size_t{i} * 2048) % buf.size();
    (void)dev.read({i / ppb, i % ppb}, buf.subspan(at, 2048), spare);
  }
}

// A rewrite keeps the old 8 MB live until close() commits the new: the
// partition holds both (16 MB) plus reserves.
constexpr std::uint32_t kFsBlocks = 256;

// false when any call failed (a failed rewrite would measure nothing).
bool fs_write(fs::FileSystem& f, std::span<const std::uint8_t> content) {
  auto h = f.open("/big", fs::kWrite | fs::kCreate | fs::kTruncate);
  if (!h) return false;
  bool ok = true;
  for (std::size_t at = 0; at < content.size(); at += kChunk)
    ok = f.write(*h, content.subspan(at, kChunk)).has_value() && ok;
  return f.close(*h).has_value() && ok;
}

bool fs_read(fs::FileSystem& f, std::span<std::uint8_t> buf) {
  auto h = f.open("/big", fs::kRead);
  if (!h) return false;
  std::size_t total = 0;
  for (auto n = f.read(*h, buf); n && *n > 0; n = f.read(*h, buf))
    total += *n;
  return f.close(*h).has_value() && total == kBig;
}

void BM_RawProgram(benchmark::State& state) {
  Bed bed(128);
  const auto content = data(kBig, 2);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state)
    raw_program(*bed.chip, content);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * kBig);
}
BENCHMARK(BM_RawProgram)->Unit(benchmark::kMillisecond);

void BM_RawRead(benchmark::State& state) {
  Bed bed(128);
  raw_program(*bed.chip, data(kBig, 3));
  std::vector<std::uint8_t> buf(kChunk);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state)
    raw_read(*bed.chip, buf);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * kBig);
}
BENCHMARK(BM_RawRead)->Unit(benchmark::kMillisecond);

void BM_FsWrite(benchmark::State& state) {
  Bed bed(kFsBlocks);
  bed.cfg.max_file_size = kBig;
  auto f = bed.mount();
  const auto content = data(kBig, 2);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state)
    if (!fs_write(*f, content)) state.SkipWithError("fs write failed");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
  virtual_rate(state, bed, v0, static_cast<double>(state.iterations()) * kBig);
}
BENCHMARK(BM_FsWrite)->Unit(benchmark::kMillisecond);

void BM_FsRead(benchmark::State& state) {
  Bed bed(kFsBlocks);
  bed.cfg.max_file_size = kBig;
  auto f = bed.mount();
  if (!f->write_file("/big", data(kBig, 3))) state.SkipWithError("fs write failed");
  std::vector<std::uint8_t> buf(kChunk);
  const auto v0 = bed.chip->virtual_time();
  for (auto _ : state)
    if (!fs_read(*f, buf)) state.SkipWithError("fs read failed");
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

// The workload under the cuts: rewrite four files (each write atomic).
constexpr std::uint32_t kCutFiles = 4;
bool rewrite_files(fs::FileSystem& f) {
  for (std::uint32_t i = 0; i < kCutFiles; ++i) {
    if (!f.write_file("/f" + std::to_string(i), data(5000, 10 + i))) return false;
  }
  return true;
}

std::uint64_t programs_and_erases(const nand::Storage& storage) {
  const auto c = storage.counters();
  return c.programs + c.erases;
}

// The exhaustive power-loss loop on one core: on a mounted file system, the
// workload is cut at each of its programs and erases in turn (never inside
// the mount before it), then the chip powers up, the file system mounts and
// every file is compared with its old or its new content.
void BM_PowerCutsPerSecond(benchmark::State& state) {
  Bed bed(12);
  nand::FaultInjector inj(*bed.chip, nullptr, 1);
  std::vector<std::vector<std::uint8_t>> before, after;
  {
    auto f = fs::FileSystem::mount(inj, bed.cfg).value();
    for (std::uint32_t i = 0; i < kCutFiles; ++i) {
      before.push_back(data(3000, i));
      after.push_back(data(5000, 10 + i));
      (void)f->write_file("/f" + std::to_string(i), before.back());
    }
  }
  bed.storage->snapshot_begin();
  // How many programs and erases the workload does, uncut.
  std::uint64_t writes = 0;
  {
    auto f = fs::FileSystem::mount(inj, bed.cfg).value();
    const auto start = programs_and_erases(*bed.storage);
    (void)rewrite_files(*f);
    writes = programs_and_erases(*bed.storage) - start;
  }
  std::uint64_t n = 1, cuts = 0;
  for (auto _ : state) {
    bed.storage->snapshot_rollback();
    bed.chip->power_up();
    inj.clear_rules();
    if (auto f = fs::FileSystem::mount(inj, bed.cfg)) {
      nand::FaultRule cut;
      cut.ops = (1U << static_cast<unsigned>(nand::OpKind::program)) |
                (1U << static_cast<unsigned>(nand::OpKind::erase));
      cut.n = n;
      cut.cut = nand::CutMode::torn_partial;
      (void)inj.add_rule(cut);
      (void)rewrite_files(**f);
    }
    n = n % writes + 1;
    bed.chip->power_up();
    inj.clear_rules();
    auto f = fs::FileSystem::mount(inj, bed.cfg);
    if (!f) {
      state.SkipWithError("mount failed after a cut");
      break;
    }
    for (std::uint32_t i = 0; i < kCutFiles; ++i) {
      const auto got = (*f)->read_file("/f" + std::to_string(i));
      if (!got || (*got != before[i] && *got != after[i])) {
        state.SkipWithError("a file is neither its old nor its new content after a cut");
        break;
      }
    }
    ++cuts;
  }
  state.counters["cuts_per_s"] =
      benchmark::Counter(static_cast<double>(cuts), benchmark::Counter::kIsRate);
  state.counters["cut_points"] = static_cast<double>(writes);
}
BENCHMARK(BM_PowerCutsPerSecond)->Unit(benchmark::kMicrosecond);

// The target, measured on the wall clock: raw program, FS write,
// raw read and FS read of 8 MB interleaved in rounds (so host noise hits
// all four alike), medians printed with the FS/raw ratios. The thread's CPU
// time is printed too: on a loaded shared host it is the steadier figure
// (time spent descheduled is not counted).
struct Times {
  double wall = 0;
  double cpu = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Times time_of(const auto& fn) {
  const double c0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {wall, thread_cpu_seconds() - c0};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print_ratio(const char* clock, const char* op, const char* raw_name,
                 const std::vector<Times>& fs, const std::vector<Times>& raw) {
  const auto mbps = [](const std::vector<Times>& t, double Times::*clock_of) {
    std::vector<double> s;
    for (const auto& x : t)
      s.push_back(x.*clock_of);
    return static_cast<double>(kBig) / median(s) / 1e6;
  };
  double Times::*which = clock[0] == 'w' ? &Times::wall : &Times::cpu;
  const double r = mbps(raw, which), f = mbps(fs, which);
  std::printf("  %-4s raw %-7s %7.0f MB/s   fs %-5s %7.0f MB/s   fs/raw %5.1f %%  (>= 50 %%: %s)\n",
              clock, raw_name, r, op, f, 100 * f / r, f >= r / 2 ? "met" : "NOT met");
}

void throughput_report(int rounds) {
  Bed raw(128), fsb(kFsBlocks);
  fsb.cfg.max_file_size = kBig;
  auto f = fsb.mount();
  const auto content = data(kBig, 2);
  std::vector<std::uint8_t> buf(kChunk);
  std::vector<Times> t[4];  // raw program, fs write, raw read, fs read
  bool ok = true;
  for (int r = -1; r < rounds; ++r) {  // round -1 warms up (first fill, page faults)
    const Times s[4] = {time_of([&] { raw_program(*raw.chip, content); }),
                        time_of([&] { ok = fs_write(*f, content) && ok; }),
                        time_of([&] { raw_read(*raw.chip, buf); }),
                        time_of([&] { ok = fs_read(*f, buf) && ok; })};
    for (int i = 0; r >= 0 && i < 4; ++i)
      t[i].push_back(s[i]);
  }
  if (!ok) std::printf("\nERROR: an fs write or read failed; figures are meaningless\n");
  std::printf("\nSequential 8 MB (4096 pages, 64 KB calls), median of %d interleaved rounds:\n",
              rounds);
  print_ratio("wall", "write", "program", t[1], t[0]);
  print_ratio("wall", "read", "read", t[3], t[2]);
  print_ratio("cpu", "write", "program", t[1], t[0]);
  print_ratio("cpu", "read", "read", t[3], t[2]);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // VMODEM_BENCH_ROUNDS: fewer rounds for profiling under callgrind.
  const char* rounds = std::getenv("VMODEM_BENCH_ROUNDS");
  throughput_report(rounds ? std::max(1, std::atoi(rounds)) : 41);
  return 0;
}
