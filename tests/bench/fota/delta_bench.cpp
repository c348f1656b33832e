// fota_bench: prints, per corpus pair, the package size of vmodem's delta
// engine next to bsdiff 4.3, xdelta3 -9 -e -s and `zstd --patch-from -19`
// (as ratios), and generation/apply time and peak memory next to
// bsdiff/bspatch. Every figure is measured in this run; each measured job
// runs in its own child process so peak RSS (wait4) belongs to that job.
// Then Google Benchmark times generation and apply in-process.
// FOTA_BENCH_FORMAT=1 measures package format 1 instead of the default
// (sizes, and the apply timings of both parts).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/memory_io.hpp>

namespace {

namespace fs = std::filesystem;
using vmodem::fota::FirmwareBundle;
using Bytes = std::vector<std::uint8_t>;

const std::vector<std::pair<std::string, std::string>> kPairs = {{"1.7.0", "1.7.1"},
                                                                 {"1.7.4", "1.7.5"},
                                                                 {"1.7.1", "1.7.0"},
                                                                 {"1.7.5", "1.7.4"},
                                                                 {"1.7.1", "1.7.4"}};

fs::path corpus(const std::string& version) {
  return fs::path(FOTA_CORPUS_DIR) / ("esp8266-at-" + version + ".bin");
}

struct Cost {
  bool ok = false;
  double seconds = 0;
  long peak_kb = 0;
};

// Runs `job` in a forked child; wall time and the child's peak RSS.
Cost in_child(const std::function<bool()>& job) {
  std::fflush(nullptr);  // or the child would flush our buffered table twice
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) _exit(job() ? 0 : 1);
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return {};
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, seconds, usage.ru_maxrss};
}

// Runs a tool (argv[0] looked up on PATH) with stdout/stderr silenced.
Cost run_tool(const std::vector<std::string>& argv) {
  return in_child([&] {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    execvp(args[0], args.data());
    return false;
  });
}

// File size, or 0 when the file is missing (a tool failed).
std::uintmax_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

FirmwareBundle bundle_of(const std::string& version) {
  auto data = vmodem::fota::read_file(corpus(version), vmodem::fota::kMaxImageBytes);
  return FirmwareBundle{"ESP8266-AT", version, {{"app", data ? *data : Bytes{}}}};
}

// The package format to measure: $FOTA_BENCH_FORMAT, or the generator's default.
std::uint16_t bench_format() {
  const char* format = std::getenv("FOTA_BENCH_FORMAT");
  return format != nullptr && std::string(format) == "1" ? vmodem::fota::kFormatVersion1
                                                         : vmodem::fota::kFormatVersion;
}

bool apply_package(const Bytes& package, const FirmwareBundle& old_fw, std::size_t chunk) {
  vmodem::fota::BundleSource source(old_fw);
  vmodem::fota::ApplyOptions options;
  options.chunk_size = chunk;
  auto applier = vmodem::fota::Applier::open(package, source, options);
  vmodem::fota::BundleSink sink;
  return applier && (*applier)->run(sink);
}

std::string ratio(std::uintmax_t ours, std::uintmax_t theirs) {
  if (ours == 0 || theirs == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ours) / static_cast<double>(theirs));
  return buf;
}

std::string bytes_or_na(std::uintmax_t n) {
  return n != 0 ? std::to_string(n) : "n/a";
}

void print_comparison() {
  const fs::path tmp = fs::temp_directory_path() / ("fota-bench-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  std::printf("\nDelta package size (bytes) and ratio ours/tool; lower is better\n");
  std::printf("%-15s %9s %9s %9s %9s %9s | %7s %7s %7s\n", "pair", "new", "ours", "bsdiff",
              "xdelta3", "zstd-19", "/bsdiff", "/xdelta", "/zstd");
  struct Costs {
    std::string pair;
    Cost ours_make, ours_apply, bsdiff, bspatch;
  };
  std::vector<Costs> costs;
  for (const auto& [from, to] : kPairs) {
    if (!fs::exists(corpus(from)) || !fs::exists(corpus(to))) {
      std::printf("%s -> %s: corpus missing in %s, skipped\n", from.c_str(), to.c_str(),
                  FOTA_CORPUS_DIR);
      continue;
    }
    const std::string a = corpus(from), b = corpus(to), stem = (tmp / (from + "-" + to)).string();
    const FirmwareBundle old_fw = bundle_of(from), new_fw = bundle_of(to);
    const fs::path ours_path = stem + ".vmfota";
    Costs c;
    c.pair = from + "->" + to;
    c.ours_make = in_child([&] {
      vmodem::fota::GeneratorOptions options;
      options.verify = false;  // timed like bsdiff: generation only
      options.format_version = bench_format();
      auto package = vmodem::fota::make_package(old_fw, new_fw, options);
      return package && vmodem::fota::write_file_atomic(ours_path, package->bytes).has_value();
    });
    auto package = vmodem::fota::read_file(ours_path, 1 << 30);
    c.ours_apply = in_child([&] { return package && apply_package(*package, old_fw, 64 * 1024); });
    c.bsdiff = run_tool({"bsdiff", a, b, stem + ".bsdiff"});
    c.bspatch = run_tool({"bspatch", a, stem + ".bspatched", stem + ".bsdiff"});
    const Cost xd = run_tool({"xdelta3", "-9", "-e", "-f", "-s", a, b, stem + ".xdelta"});
    const Cost zs =
        run_tool({"zstd", "-q", "-f", "-19", "--patch-from=" + a, b, "-o", stem + ".zst"});
    const auto ours = c.ours_make.ok ? size_of(ours_path) : 0;
    const auto bs = c.bsdiff.ok ? size_of(stem + ".bsdiff") : 0;
    const auto x = xd.ok ? size_of(stem + ".xdelta") : 0;
    const auto z = zs.ok ? size_of(stem + ".zst") : 0;
    std::printf("%-15s %9zu %9s %9s %9s %9s | %7s %7s %7s\n", c.pair.c_str(),
                new_fw.images[0].data.size(), bytes_or_na(ours).c_str(), bytes_or_na(bs).c_str(),
                bytes_or_na(x).c_str(), bytes_or_na(z).c_str(), ratio(ours, bs).c_str(),
                ratio(ours, x).c_str(), ratio(ours, z).c_str());
    costs.push_back(c);
  }
  std::printf("\nGeneration and apply (wall seconds, peak RSS MiB of the process doing it)\n");
  std::printf("%-15s %10s %10s %10s %10s | %10s %10s %10s %10s\n", "pair", "make s", "bsdiff s",
              "make MiB", "bsdiff MiB", "apply s", "bspatch s", "apply MiB", "bspatch MiB");
  for (const auto& c : costs) {
    std::printf("%-15s %10.3f %10.3f %10.1f %10.1f | %10.4f %10.4f %10.1f %10.1f\n", c.pair.c_str(),
                c.ours_make.seconds, c.bsdiff.seconds, c.ours_make.peak_kb / 1024.0,
                c.bsdiff.peak_kb / 1024.0, c.ours_apply.seconds, c.bspatch.seconds,
                c.ours_apply.peak_kb / 1024.0, c.bspatch.peak_kb / 1024.0);
  }
  std::printf(
      "(apply: in-memory, 64 KiB chunks, includes SHA-256 checks of source, package and "
      "target)\n\n");
  fs::remove_all(tmp);
}

void BM_Generate(benchmark::State& state, const std::string& from, const std::string& to,
                 bool thorough) {
  const auto old_fw = bundle_of(from), new_fw = bundle_of(to);
  if (old_fw.images[0].data.empty()) return state.SkipWithError("corpus missing");
  vmodem::fota::GeneratorOptions options;
  options.thorough = thorough;
  options.verify = false;
  std::size_t size = 0;
  for (auto _ : state) {
    auto package = vmodem::fota::make_package(old_fw, new_fw, options);
    if (!package) return state.SkipWithError(package.error().message.c_str());
    size = package->bytes.size();
  }
  state.counters["package_bytes"] = static_cast<double>(size);
}

void BM_Apply(benchmark::State& state, const std::string& from, const std::string& to) {
  const auto old_fw = bundle_of(from), new_fw = bundle_of(to);
  if (old_fw.images[0].data.empty()) return state.SkipWithError("corpus missing");
  vmodem::fota::GeneratorOptions options;
  options.format_version = bench_format();
  auto package = vmodem::fota::make_package(old_fw, new_fw, options);
  if (!package) return state.SkipWithError(package.error().message.c_str());
  for (auto _ : state) {
    if (!apply_package(package->bytes, old_fw, static_cast<std::size_t>(state.range(0)))) {
      return state.SkipWithError("apply failed");
    }
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * new_fw.images[0].data.size()));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  print_comparison();
  for (const auto& [from, to] : kPairs) {
    const std::string pair = from + "->" + to;
    benchmark::RegisterBenchmark(("generate_thorough/" + pair).c_str(), BM_Generate, from, to, true)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("generate_fast/" + pair).c_str(), BM_Generate, from, to, false)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2);
    benchmark::RegisterBenchmark(("apply/" + pair).c_str(), BM_Apply, from, to)
        ->Unit(benchmark::kMillisecond)
        ->Arg(2048)
        ->Arg(64 * 1024);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
