// AT round trip through a real PTY: `AT\r` → `\r\nOK\r\n` served by the
// engine on an Asio thread, against the floor measured in the same run and
// interleaved with it: a thread on a bare PTY pair that answers every CR
// with the same 6 bytes. Prints median, p99 and the ratio (target: within 2x
// of the floor).

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

Figures figures_of(std::vector<double> samples) {
  Figures figures;
  if (samples.empty()) return figures;
  std::sort(samples.begin(), samples.end());
  figures.median_us = samples[samples.size() / 2];
  figures.p99_us = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  return figures;
}

// Microseconds of one `round_trip()`, or a negative value if it failed.
template <typename RoundTrip>
double time_us(RoundTrip&& round_trip) {
  const auto start = std::chrono::steady_clock::now();
  if (!round_trip()) return -1;
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

// The floor: the cheapest possible "modem" on a PTY, a thread that answers
// every CR with the same 6 bytes the engine sends (`\r\nOK\r\n`).
class OkResponder {
 public:
  OkResponder() {
    if (::openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0) return;
    make_raw(slave_);
    thread_ = std::thread([master = master_] {
      std::array<char, 256> buffer{};
      while (true) {
        const ssize_t n = ::read(master, buffer.data(), buffer.size());
        if (n <= 0) return;
        const std::string_view got(buffer.data(), static_cast<std::size_t>(n));
        for (std::size_t i = 0;
             i < static_cast<std::size_t>(std::count(got.begin(), got.end(), '\r')); ++i) {
          if (!write_all(master, "\r\nOK\r\n")) return;
        }
      }
    });
  }
  ~OkResponder() {
    if (slave_ >= 0) ::close(slave_);  // the thread's read now fails
    if (thread_.joinable()) thread_.join();
    if (master_ >= 0) ::close(master_);
  }
  int host() const { return slave_; }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::thread thread_;
};

// The engine (a PtyPort on its own io_context thread, host on this thread)
// and the floor, one round trip each in turn so both see the same machine
// noise;
// the same 3 bytes out and 6 bytes back for each.
void BM_AtRoundTripAgainstFloor(benchmark::State& state) {
  std::string pattern = (fs::temp_directory_path() / "vmodem-at-bench-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  vmodem::at::Registry registry;
  vmodem::at::install_v250_commands(registry);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  auto port = std::make_unique<vmodem::at::PtyPort>(
      io.get_executor(), registry, vmodem::at::PtyPortOptions{.link = dir / "ttyUSB2"});
  OkResponder floor;
  if (!port->open() || floor.host() < 0) {
    state.SkipWithError("cannot open the PTYs");
    return;
  }
  std::thread server([&io] { io.run(); });
  const int host = ::open((dir / "ttyUSB2").c_str(), O_RDWR | O_NOCTTY);
  make_raw(host);
  // Host stacks switch echo off first.
  write_all(host, "ATE0\r");
  read_exactly(host, std::string_view("ATE0\r\r\nOK\r\n").size());
  const auto engine_trip = [host] { return write_all(host, "AT\r") && read_exactly(host, 6); };
  const auto floor_trip = [&floor] {
    return write_all(floor.host(), "AT\r") && read_exactly(floor.host(), 6);
  };
  std::vector<double> engine_samples, floor_samples;
  for (auto _ : state) {
    const double engine_us = time_us(engine_trip);
    const double floor_us = time_us(floor_trip);
    if (engine_us < 0 || floor_us < 0) {
      state.SkipWithError("round trip failed");
      break;
    }
    state.SetIterationTime(engine_us / 1e6);
    engine_samples.push_back(engine_us);
    floor_samples.push_back(floor_us);
  }
  g_engine = figures_of(engine_samples);
  g_floor = figures_of(floor_samples);
  state.counters["median_us"] = g_engine.median_us;
  state.counters["floor_median_us"] = g_floor.median_us;
  ::close(host);
  asio::post(io, [&port] { port.reset(); });
  work.reset();
  server.join();
  fs::remove_all(dir);
}

}  // namespace

BENCHMARK(BM_AtRoundTripAgainstFloor)->UseManualTime()->Iterations(20000);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_floor.median_us > 0 && g_engine.median_us > 0) {
    std::printf(
        "\nAT round trip: median %.1f us, p99 %.1f us\n"
        "bare-PTY OK responder (floor): median %.1f us, p99 %.1f us\n"
        "ratio to floor: median %.2fx, p99 %.2fx (target <= 2x)\n",
        g_engine.median_us, g_engine.p99_us, g_floor.median_us, g_floor.p99_us,
        g_engine.median_us / g_floor.median_us, g_engine.p99_us / g_floor.p99_us);
  }
  return 0;
}
