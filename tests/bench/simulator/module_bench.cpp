// The running module from the host's side, next to floors measured in the
// same run:
//   * AT round trip (AT\r -> OK) through `vmodem run`'s PTY, median and p99,
//     against a trivial responder on a bare PTY pair (target: within 2x);
//   * AT+QFUPL of 64 KB and 1 MB against the same exchange with a bare-PTY
//     responder (CONNECT, the bytes, +QFUPL and OK; targets 50% and 80%),
//     interleaved; AT+QFDWL of 1 MB against raw PTY throughput;
//   * power-on to APP RDY, fast mode (target < 50 ms) and real-time pacing.
// Usage: module_bench [--round-trips N] [--repetitions N] [--skip-real-time]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench_host.hpp"

using namespace vmodem::bench;
using namespace std::chrono;

namespace {

double us_since(Clock::time_point start) {
  return duration<double, std::micro>(Clock::now() - start).count();
}

std::vector<double> round_trips(Port& port, int count) {
  std::vector<double> samples;
  std::string buffer;
  for (int i = 0; i < count; ++i) {
    buffer.clear();
    const auto start = Clock::now();
    port.write_all("AT\r", 3);
    if (!port.read_until("OK\r\n", buffer, milliseconds(2000))) break;
    samples.push_back(us_since(start));
  }
  return samples;
}

std::string payload(std::size_t size) {
  std::string data(size, '\0');
  std::uint32_t x = 7;
  for (auto& c : data)
    c = static_cast<char>((x = x * 1664525 + 1013904223) >> 24);
  return data;
}

// MB/s of pushing `data` through a PTY into a thread that swallows it.
double raw_pty_mbps(const std::string& data) {
  FloorPty floor(FloorPty::Mode::sink);
  const auto start = Clock::now();
  floor.client().write_all(data.data(), data.size());
  while (floor.sunk() < data.size() && Clock::now() - start < seconds(10))
    std::this_thread::sleep_for(microseconds(50));
  return static_cast<double>(data.size()) / us_since(start);
}

double upload_mbps(Port& port, const std::string& name, const std::string& data) {
  std::string buffer;
  const auto start = Clock::now();
  const std::string command = "AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + ",60\r";
  port.write_all(command.data(), command.size());
  if (!port.read_until("CONNECT\r\n", buffer, milliseconds(5000))) return 0;
  port.write_all(data.data(), data.size());
  if (!port.read_until("OK\r\n", buffer, milliseconds(30000))) return 0;
  return static_cast<double>(data.size()) / us_since(start);
}

double download_mbps(Port& port, const std::string& name, std::size_t size) {
  std::string buffer;
  const auto start = Clock::now();
  const std::string command = "AT+QFDWL=\"" + name + "\"\r";
  port.write_all(command.data(), command.size());
  if (!port.read_until("+QFDWL:", buffer, milliseconds(30000)) ||
      !port.read_until("OK\r\n", buffer, milliseconds(5000)))
    return 0;
  return static_cast<double>(size) / us_since(start);
}

void delete_file(Port& port, const std::string& name) {
  std::string buffer;
  const std::string del = "AT+QFDEL=\"" + name + "\"\r";
  port.write_all(del.data(), del.size());
  port.read_until("OK\r\n", buffer, seconds(5));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double boot_ms(Control& control, bool first) {
  if (!first) control.call("power-off");
  control.call("subscribe");
  const auto start = Clock::now();
  control.call("power-on");
  if (!control.wait_power_event("app_rdy", seconds(30))) return -1;
  return us_since(start) / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  int trips = 5000, reps = 5;
  bool real_time = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--round-trips") && i + 1 < argc) trips = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--repetitions") && i + 1 < argc) reps = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--skip-real-time")) real_time = false;
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("vmodem-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  // --- AT round trip ---
  std::vector<double> module_samples, floor_samples;
  double download = 0, raw = 0;
  struct Upload {
    std::size_t bytes;
    double module_mbps, floor_mbps;
  };
  std::vector<Upload> uploads;
  std::vector<double> boots;
  {
    Daemon daemon(dir / "fast", {});
    Port port = Port::open_link(dir / "fast" / "ttyUSB2", seconds(10));
    std::string buffer;
    port.read_until("APP RDY\r\n", buffer, seconds(10));
    buffer.clear();
    port.write_all("ATE0\r", 5);
    port.read_until("OK\r\n", buffer, seconds(2));
    FloorPty floor(FloorPty::Mode::echo_ok);
    // Interleave module and floor batches so both see the same machine noise.
    for (int r = 0; r < reps; ++r) {
      auto m = round_trips(port, trips / reps);
      auto f = round_trips(floor.client(), trips / reps);
      module_samples.insert(module_samples.end(), m.begin(), m.end());
      floor_samples.insert(floor_samples.end(), f.begin(), f.end());
    }
    // --- uploads against the same exchange on a bare PTY, interleaved ---
    FloorPty upload_floor(FloorPty::Mode::upload);
    for (const std::size_t size : {std::size_t{64} << 10, std::size_t{1} << 20}) {
      const auto data = payload(size);
      std::vector<double> module_mbps, floor_mbps;
      for (int r = 0; r < reps; ++r) {
        const std::string name = "up" + std::to_string(r) + ".bin";
        module_mbps.push_back(upload_mbps(port, name, data));
        floor_mbps.push_back(upload_mbps(upload_floor.client(), name, data));
        delete_file(port, name);
      }
      uploads.push_back({size, median(module_mbps), median(floor_mbps)});
    }
    // --- 1 MB download ---
    const auto data = payload(1 << 20);
    std::vector<double> downs, raws;
    for (int r = 0; r < 3; ++r) {
      const std::string name = "bench" + std::to_string(r) + ".bin";
      upload_mbps(port, name, data);
      downs.push_back(download_mbps(port, name, data.size()));
      raws.push_back(raw_pty_mbps(data));
      delete_file(port, name);
    }
    download = median(downs);
    raw = median(raws);
    // --- boot, fast mode ---
    Control control(dir / "fast" / "control.sock");
    for (int r = 0; r < 7; ++r)
      boots.push_back(boot_ms(control, false));
  }
  double real_boot = -1;
  if (real_time) {
    Daemon daemon(dir / "real", {"--real-time"});
    Control control(dir / "real" / "control.sock");
    control.call("subscribe");
    // The first boot manufactures the image; measure a second, ordinary one.
    control.wait_power_event("app_rdy", seconds(60));
    real_boot = boot_ms(control, false);
  }
  std::filesystem::remove_all(dir);

  const auto m = percentiles(module_samples);
  const auto f = percentiles(floor_samples);
  std::sort(boots.begin(), boots.end());
  std::printf("\n=== vmodem run, measured from the host (medians) ===\n");
  std::printf("AT round trip, module PTY      median %7.1f us  p99 %7.1f us  (%zu samples)\n",
              m.median_us, m.p99_us, module_samples.size());
  std::printf("AT round trip, bare PTY floor  median %7.1f us  p99 %7.1f us\n", f.median_us,
              f.p99_us);
  std::printf("ratio to floor                 median %7.2fx     p99 %7.2fx  (target: within 2x)\n",
              m.median_us / f.median_us, m.p99_us / f.p99_us);
  for (const auto& up : uploads) {
    std::printf(
        "AT+QFUPL %4zu KB               %7.1f MB/s  %5.1f%% of the bare-PTY exchange "
        "(%.1f MB/s; target %s)\n",
        up.bytes >> 10, up.module_mbps, 100 * up.module_mbps / up.floor_mbps, up.floor_mbps,
        up.bytes < (1U << 20) ? ">= 50%" : ">= 80%");
  }
  std::printf("AT+QFDWL 1 MB                  %7.1f MB/s  %5.1f%% of raw PTY\n", download,
              100 * download / raw);
  std::printf("raw PTY throughput (floor)     %7.1f MB/s\n", raw);
  std::printf("power-on -> APP RDY, fast      %7.1f ms median of %zu  (target < 50 ms)\n",
              boots[boots.size() / 2], boots.size());
  if (real_time)
    std::printf("power-on -> APP RDY, real time %7.1f ms  (a BG95: seconds)\n", real_boot);
  return 0;
}
