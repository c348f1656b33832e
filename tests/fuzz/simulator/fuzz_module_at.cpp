// The running module through its AT ports: every command handler, data mode,
// URCs, resets and power cuts, driven from the input (module_host.hpp).
//
// The input is a program for the host. Its bytes go to the selected port as
// the host writes them, except 0xFE, which starts an operation:
//
//   FE 00        a literal FE byte for the port
//   FE 01 n      the clock runs n*10 ms (n < 128) or (n-128) s: data-mode
//                timeouts, the padding grace after an upload
//   FE 02 n      the host writes to port n%3 from now on: AT, modem, UART
//   FE 03 n      a power cut armed at the (n+1)th NAND operation from now
//   FE 04        a power cut now
//   FE 05        a reset (what AT+CFUN=1,1 does once its OK is out)
//   FE 06        power on (boots to APP RDY)
//   FE 07        an orderly power-off (what AT+QPOWD does)
//   FE 08 ...\n  one control-protocol line (the bytes up to the newline)
//   FE 09        the host stops reading the port, or reads again
//
// Other operation bytes count modulo 10. The module's own timers (boot,
// URCs after RDY) run at once; the ~20 ms a reset or power-down waits for
// its answer to leave is not waited for: FE 05 and FE 07 run what follows.
// Seeds in corpus/fuzz_module_at/ are written with these escapes; the
// dictionary fuzz_module_at.dict names every command the module registers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "module_host.hpp"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  vmodem::sim::fuzzing::initialize_fuzzer("fuzz_module_at");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& host = vmodem::sim::fuzzing::ModuleHost::instance();
  std::string_view rest(reinterpret_cast<const char*>(data), size);  // NOLINT
  host.begin_input();
  auto next_byte = [&rest]() -> std::uint8_t {
    if (rest.empty()) return 0;
    const auto byte = static_cast<std::uint8_t>(rest.front());
    rest.remove_prefix(1);
    return byte;
  };
  while (!rest.empty()) {
    const auto escape = rest.find('\xFE');
    host.host_write(rest.substr(0, escape));
    if (escape == std::string_view::npos) break;
    rest.remove_prefix(escape + 1);
    auto& module = host.module();
    switch (next_byte() % 10) {
      case 0:
        host.host_write("\xFE");
        break;
      case 1: {
        const std::uint8_t n = next_byte();
        host.advance(n < 128 ? std::chrono::milliseconds(n * 10)
                             : std::chrono::milliseconds(std::chrono::seconds(n - 128)));
        break;
      }
      case 2:
        host.select_port(next_byte());
        break;
      case 3: {
        vmodem::sim::PowerCutRequest cut;
        cut.when = vmodem::sim::PowerCutRequest::When::after_operations;
        cut.operations = 1 + next_byte();
        (void)module.power_cut(cut);
        break;
      }
      case 4:
        (void)module.power_cut({});
        break;
      case 5:
        (void)module.reset();
        break;
      case 6:
        (void)module.power_on();
        break;
      case 7:
        (void)module.power_off();
        break;
      case 8: {
        const auto newline = rest.find('\n');
        (void)host.control(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        break;
      }
      case 9:
        host.toggle_stalled_reader();
        break;
      default:
        break;
    }
    host.settle();
  }
  host.end_input();
  return 0;
}
