// Fuzzes the line discipline, parser, dispatcher and data mode through the
// transport-agnostic Engine: arbitrary host bytes, in arbitrary chunks, with
// time passing, a reader that sometimes stalls, URCs and async answers.
//
// Input layout: the first byte picks knobs, the rest is split into chunks by
// 0xFE markers; the byte after a marker drives an action.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/parser.hpp>
#include <vmodem/at/registry.hpp>

namespace {

using namespace vmodem::at;  // NOLINT(google-build-using-namespace)

struct Harness {
  Registry registry;
  Clock::time_point now{};
  Responder held;  // an async command waiting for its answer

  Harness() {
    install_v250_commands(registry);
    (void)registry.add("+INFO", {.execute =
                                     [](Call& call) {
                                       call.responder.info("+INFO: 1");
                                       call.responder.ok();
                                     },
                                 .write =
                                     [](Call& call) {
                                       for (const auto& arg : call.command.args) {
                                         if (auto text = arg.as_string())
                                           call.responder.info(*text);
                                       }
                                       call.responder.ok();
                                     }});
    (void)registry.add("+FAIL", {.execute = [](Call& call) { call.responder.cme_error(10); }});
    (void)registry.add("+SLOW", {.execute = [this](Call& call) { held = call.responder; }});
    (void)registry.add("+UP", {.write = [](Call& call) {
                         Responder responder = call.responder;
                         UploadSpec spec;
                         const auto size = call.command.arg(0).as_integer();
                         if (size && *size >= 0 && *size < 100000) {
                           spec.expected_bytes = static_cast<std::size_t>(*size);
                         }
                         spec.inactivity_timeout = std::chrono::milliseconds(50);
                         spec.trailing_grace =
                             std::chrono::milliseconds(call.command.arg(1).is_omitted() ? 5 : 0);
                         spec.on_end = [responder](UploadEnd, std::size_t n) mutable {
                           responder.info("+UP: " + std::to_string(n));
                           responder.ok();
                         };
                         call.responder.start_upload(std::move(spec));
                       }});
    (void)registry.add("+DOWN", {.write = [](Call& call) {
                         Responder responder = call.responder;
                         auto left = std::make_shared<std::int64_t>(
                             call.command.arg(0).as_integer().value_or(0) % 20000);
                         DownloadSpec spec;
                         spec.fill = [left](std::span<std::uint8_t> room) {
                           std::size_t n = 0;
                           while (n < room.size() && *left > 0) {
                             room[n++] = 'd';
                             --*left;
                           }
                           return n;
                         };
                         spec.on_end = [responder](DownloadEnd) mutable { responder.ok(); };
                         call.responder.start_download(std::move(spec));
                       }});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);  // NOLINT
  // The parser alone, on the raw input.
  (void)parse_command_line(input);
  if (size == 0) return 0;

  Harness harness;
  const std::uint8_t knobs = data[0];
  EngineConfig config;
  config.max_line_length = 8 + (knobs & 0x3FU) * 4;
  config.output_bound = (knobs & 0x40U) != 0 ? 64 : 4096;
  config.urc_queue_limit = (knobs & 0x80U) != 0 ? 2 : 16;
  config.now = [&harness] { return harness.now; };
  Engine engine(harness.registry, config);
  bool reader_stalled = false;

  std::string_view rest = input.substr(1);
  while (!rest.empty()) {
    const auto marker = rest.find('\xFE');
    std::string_view chunk = rest.substr(0, marker);
    rest = marker == std::string_view::npos ? std::string_view{} : rest.substr(marker + 1);
    std::uint8_t action = 0;
    if (!rest.empty()) {
      action = static_cast<std::uint8_t>(rest.front());
      rest.remove_prefix(1);
    }
    // Feed until the engine stops taking input, then unblock it the way an
    // adapter would (read output, let time pass, answer the async command).
    for (int round = 0; !chunk.empty() && round < 64; ++round) {
      chunk.remove_prefix(engine.feed(chunk));
      if (!reader_stalled) engine.consume_output(engine.pending_output().size());
      if (!chunk.empty() && engine.mode() == EngineMode::kExecuting) harness.held.ok();
      if (!chunk.empty() && !engine.wants_input()) {
        engine.consume_output(engine.pending_output().size());
      }
    }
    switch (action % 8) {
      case 1:
        harness.now += std::chrono::milliseconds(action);
        engine.poll();
        break;
      case 2:
        engine.queue_urc("+URC: " + std::to_string(action));
        break;
      case 3:
        reader_stalled = !reader_stalled;
        break;
      case 4:
        harness.held.info("+SLOW: late");
        harness.held.fail(Failure::cme(action));
        break;
      case 5:
        if (action == 5) engine.reset();
        break;
      default:
        break;
    }
  }
  return 0;
}
