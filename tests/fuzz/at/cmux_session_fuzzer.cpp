// Fuzzes the 27.010 frame decoder and the multiplexer session behind it:
// arbitrary host bytes in arbitrary chunks, a reader that sometimes stalls,
// URCs, time passing. Nothing may crash, and the output must stay bounded.
//
// Input layout: the first byte picks N1; the rest is split into chunks by
// 0xFE markers; the byte after a marker drives an action.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <vmodem/at/cmux.hpp>
#include <vmodem/at/registry.hpp>

namespace {

using namespace vmodem::at;  // NOLINT(google-build-using-namespace)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Registry registry;
  install_v250_commands(registry);
  install_cmux_command(registry);
  CmuxParams params;
  params.n1 = 1 + data[0] % 200;
  Clock::time_point now{};
  EngineConfig config;
  config.now = [&now] { return now; };
  config.output_bound = 4096;
  CmuxSession session(registry, params, config);
  bool stalled = false;
  const auto input = std::span<const std::uint8_t>(data, size).subspan(1);
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = start;
    while (end < input.size() && input[end] != 0xFE)
      ++end;
    auto chunk = input.subspan(start, end - start);
    while (!chunk.empty() && !session.closed()) {
      const std::size_t used = session.feed(chunk);
      chunk = chunk.subspan(used);
      if (used == 0) {
        if (stalled) break;  // the reader is not reading: the host backs up
        session.consume_output(session.pending_output().size());
      }
    }
    if (end + 1 >= input.size()) break;
    const std::uint8_t action = input[end + 1];
    switch (action % 4) {
      case 0:
        stalled = !stalled;
        break;
      case 1:
        session.queue_urc("+CREG: 1");
        break;
      case 2:
        now += std::chrono::milliseconds(action * 100);
        session.poll();
        break;
      default:
        session.pump();
        break;
    }
    if (!stalled) session.consume_output(session.pending_output().size());
    // Bounded: the output bound plus one frame per DLC and the control
    // answers of one decode step.
    if (session.pending_output().size() > 64 * 1024) std::abort();
    start = end + 2;
  }
  return 0;
}
