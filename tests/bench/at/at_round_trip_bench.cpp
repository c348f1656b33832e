// AT round trip through a real PTY: `AT\r` → `\r\nOK\r\n` served by the
// engine on an Asio thread, against the floor measured in the same run: a
// thread that echoes bytes back over a bare PTY pair. Prints median, p99 and
// the ratio (issue 4 target: within 2x of the floor).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <vmodem/at/pty_port.hpp>

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Nanos = std::chrono::nanoseconds;

struct Figures {
  double median_us = 0;
  double p99_us = 0;
};
Figures g_floor;
Figures g_engine;

void make_raw(int fd) {
  termios modes{};
  ::tcgetattr(fd, &modes);
  ::cfmakeraw(&modes);
  ::tcsetattr(fd, TCSANOW, &modes);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads exactly `count` bytes (blocking).
bool read_exactly(int fd, std::size_t count) {
  std::array<char, 256> buffer{};
  while (count > 0) {
    const ssize_t n = ::read(fd, buffer.data(), std::min(count, buffer.size()));
    if (n <= 0) return false;
    count -= static_cast<std::size_t>(n);
  }
  return true;
}

// Times `round_trip` per iteration and reports median and p99.
template <typename RoundTrip>
Figures measure(benchmark::State& state, RoundTrip round_trip) {
  std::vector<double> samples;
  samples.reserve(100000);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (!round_trip()) {
      state.SkipWithError("round trip failed");
      break;
    }
    const auto took = std::chrono::steady_clock::now() - start;
    const double seconds = std::chrono::duration<double>(took).count();
    state.SetIterationTime(seconds);
    samples.push_back(seconds * 1e6);
  }
  Figures figures;
  if (samples.empty()) return figures;
  std::sort(samples.begin(), samples.end());
  figures.median_us = samples[samples.size() / 2];
  figures.p99_us = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  state.counters["median_us"] = figures.median_us;
  state.counters["p99_us"] = figures.p99_us;
  return figures;
}

// The floor: the cheapest possible "modem" on a PTY, a thread echoing bytes.
void BM_PtyEchoFloor(benchmark::State& state) {
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    state.SkipWithError("openpty");
    return;
  }
  make_raw(slave);
  std::thread echo([master] {
    std::array<char, 256> buffer{};
    while (true) {
      const ssize_t n = ::read(master, buffer.data(), buffer.size());
      if (n <= 0 ||
          !write_all(master, std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
        return;
      }
    }
  });
  g_floor = measure(state, [slave] { return write_all(slave, "AT\r") && read_exactly(slave, 3); });
  ::close(slave);  // the echo thread's read now fails
  echo.join();
  ::close(master);
}

// The engine: a PtyPort on its own io_context thread, host on this thread.
void BM_AtRoundTrip(benchmark::State& state) {
  std::string pattern = (fs::temp_directory_path() / "vmodem-at-bench-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  vmodem::at::Registry registry;
  vmodem::at::install_v250_commands(registry);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  auto port = std::make_unique<vmodem::at::PtyPort>(
      io.get_executor(), registry, vmodem::at::PtyPortOptions{.link = dir / "ttyUSB2"});
  if (!port->open()) {
    state.SkipWithError("port open");
    return;
  }
  std::thread server([&io] { io.run(); });
  const int host = ::open((dir / "ttyUSB2").c_str(), O_RDWR | O_NOCTTY);
  make_raw(host);
  // Host stacks switch echo off first; then every round trip is 3 bytes out,
  // 6 bytes back.
  write_all(host, "ATE0\r");
  read_exactly(host, std::string_view("ATE0\r\r\nOK\r\n").size());
  g_engine = measure(state, [host] { return write_all(host, "AT\r") && read_exactly(host, 6); });
  ::close(host);
  asio::post(io, [&port] { port.reset(); });
  work.reset();
  server.join();
  fs::remove_all(dir);
}

}  // namespace

BENCHMARK(BM_PtyEchoFloor)->UseManualTime()->Iterations(20000);
BENCHMARK(BM_AtRoundTrip)->UseManualTime()->Iterations(20000);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_floor.median_us > 0 && g_engine.median_us > 0) {
    std::printf(
        "\nAT round trip: median %.1f us, p99 %.1f us\n"
        "PTY echo floor: median %.1f us, p99 %.1f us\n"
        "ratio to floor: median %.2fx, p99 %.2fx (target <= 2x)\n",
        g_engine.median_us, g_engine.p99_us, g_floor.median_us, g_floor.p99_us,
        g_engine.median_us / g_floor.median_us, g_engine.p99_us / g_floor.p99_us);
  }
  return 0;
}
