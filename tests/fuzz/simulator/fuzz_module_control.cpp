// The control protocol against the running module (module_host.hpp): every
// line a control client may write reaches the module's handlers — status,
// power-on/-off/-cut, reset, inject, stats, backup-info, snapshots (in a
// private directory), sim-remove/-insert, subscribe and the events that
// follow.
//
// The input is lines. A line is one control request, except:
//   >text   "text" and CR written to the module's AT port (to make files,
//           settings, a data mode to cut into)
//   ~       the clock runs one second (data-mode timeouts)
// Every reply and every event must be exactly one line of JSON.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "module_host.hpp"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  vmodem::sim::fuzzing::initialize_fuzzer("fuzz_module_control");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& host = vmodem::sim::fuzzing::ModuleHost::instance();
  std::string_view rest(reinterpret_cast<const char*>(data), size);  // NOLINT
  host.begin_input();
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (line.starts_with('>')) {
      host.host_write(std::string(line.substr(1)) + "\r");
    } else if (line == "~") {
      host.advance(std::chrono::seconds(1));
    } else {
      (void)host.control(line);
    }
  }
  host.end_input();
  return 0;
}
