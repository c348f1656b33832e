#pragma once

// The AT engine of one port, transport-agnostic: bytes from the host go in
// through feed(), bytes for the host come out of pending_output(). A PTY port
// (pty_port.hpp) is an adapter around it; tests and the fuzzer drive it
// directly.
//
// Line discipline (ITU-T V.250):
//  * A command line starts with `AT` or `at` and ends with S3 (`\r`). A LF
//    received in command state is ignored, so `\r\n` works and the LF never
//    makes an empty command. A line that is empty or only spaces gets no
//    answer; a line with any other content that lacks the prefix gets `ERROR`.
//  * When the line enters data mode (an upload after `CONNECT` or after a
//    prompt such as `> `), an LF that is the very next byte after its S3 and
//    arrives before CONNECT (the prompt) has been taken by consume_output()
//    is the tail of a `\r\n` terminator, not data. Once CONNECT is out, the
//    host may have seen it, and every byte, an LF first included, is data (a
//    host ending lines with CR alone).
//  * S5 (backspace) deletes the previous character of the line.
//  * Ctrl-Z (0x1A) or ESC (0x1B) in command state drops the line typed so
//    far, with no answer: hosts send one before a command to close a `> `
//    prompt that may still be open (gsm0710muxd does before each).
//  * `A/` (or `a/`) as the first characters of a line repeats the last command
//    line at once, without a terminator (`ERROR` if there is none yet).
//  * Echo (ATE1, the default) sends every command-state byte back as it
//    arrives, except the ignored LF.
//  * A line longer than EngineConfig::max_line_length is discarded up to its
//    terminator and answered `ERROR`.
//  * Commands of a line run in order; the first failure ends the line with its
//    error and the rest is skipped; one `OK` ends a line that fully succeeded.
//    Syntax errors and unknown commands are a plain `ERROR`; handler failures
//    follow +CMEE.
//
// Output bound (a slow or absent host never blocks the engine):
//  * Responses, echo, result codes and raw data are never dropped.
//  * Online data mode (OnlineLink): the link's writes obey the bound like a
//    download (OnlineLink::write() says when to stop); host bytes are taken
//    only while the output is below the bound and the link does not hold them.
//  * While pending_output() holds `output_bound` bytes or more, feed() stops
//    consuming input (it returns how much it took); the adapter stops reading,
//    so the host's writes back up in the kernel, like hardware flow control.
//    So the buffer exceeds the bound by at most the response to one command
//    line (or one raw write of a handler).
//  * A download pulls data only up to the bound.
//  * URCs wait in a per-port queue of at most `urc_queue_limit` entries; they
//    move to the output only when the port is idle (no command running, not in
//    data mode) and the output is below the bound. When the queue is full the
//    oldest URC is dropped and counted in EngineStats::urcs_dropped.
//
// Thread: not thread-safe. Every call, including Responder calls made by
// handlers, must come from one thread or strand (the port's executor).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <vmodem/at/cmux_params.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/at/settings.hpp>

namespace vmodem::at {

using Clock = std::chrono::steady_clock;

struct EngineConfig {
  PortSettings defaults{};             // power-on settings (after reset() too)
  std::size_t max_line_length = 1024;  // characters between `AT` and S3, prefix included
  std::size_t output_bound = 64 * 1024;
  std::size_t urc_queue_limit = 64;
  // Silence required before and after `+++` in online data mode (V.250's S12,
  // 1 s on Quectel modules). See OnlineSpec.
  std::chrono::milliseconds escape_guard{1000};
  // Time source for data-mode timeouts. Tests inject a fake clock.
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
  // Told when a command handler threw (`command` as the registry names it,
  // `what` the exception's message). The engine answers that command ERROR
  // and carries on; a handler that throws is a bug, so log it loudly.
  // Builds with VMODEM_FUZZING let the exception through, for the fuzzers.
  std::function<void(std::string_view command, std::string_view what)> on_handler_exception{};
  // AT+CMUX (cmux.hpp): the port's transport, told once the command line in
  // which a handler called Responder::start_mux() ended in OK (a line that
  // fails does not multiplex). The OK is already in pending_output(); from
  // then on the engine is muxed(): it consumes no input (feed() returns 0)
  // and sends no URC until end_mux(). Called from inside the engine: record
  // the request and act on it later (write out the OK, then switch framing).
  // Absent: start_mux() fails (an engine with no transport that can
  // multiplex, or a multiplexer channel's own engine).
  std::function<void(const CmuxParams& params)> on_mux{};
  // Set on the engine of a multiplexer channel (DLC): its multiplexer's
  // parameters, for AT+CMUX? (Responder::mux_params()).
  std::optional<CmuxParams> mux{};
};

enum class EngineMode : std::uint8_t {
  kCommand,    // idle, reading command lines
  kExecuting,  // a command line is running (a handler has not answered yet)
  kUpload,     // data mode, host → handler
  kDownload,   // data mode, handler → host
  kOnline,     // online data mode: raw both ways for an OnlineLink
};

struct EngineStats {
  std::uint64_t bytes_in = 0;         // consumed by feed()
  std::uint64_t bytes_out = 0;        // queued for the host
  std::uint64_t lines = 0;            // command lines executed (prefix found)
  std::uint64_t lines_rejected = 0;   // overlong, no prefix, syntax error
  std::uint64_t data_bytes_in = 0;    // delivered to upload handlers
  std::uint64_t bytes_discarded = 0;  // padding or excess upload data; input during a download
  std::uint64_t urcs_sent = 0;
  std::uint64_t urcs_dropped = 0;
};

namespace detail {
class EngineCore;
}  // namespace detail

class Engine {
 public:
  // `registry` must outlive the engine.
  explicit Engine(const Registry& registry, EngineConfig config = {});
  ~Engine();  // running commands are abandoned; their Responders go stale
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Offers bytes from the host. Returns how many were consumed, from the
  // front; the caller offers the rest again after the engine wakes it. Fewer
  // than offered when a command is running (input waits, as on a module) or
  // the output is at its bound.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  std::size_t feed(std::string_view bytes);

  // Bytes waiting for the host. The view is invalidated by any other call.
  std::span<const std::uint8_t> pending_output() const noexcept;
  // Drops the first `count` (clamped) pending bytes once they were written.
  void consume_output(std::size_t count);
  // pending_output() as a string, consumed (for tests and simple adapters).
  std::string take_output();

  // Queues one URC line (without framing). Sent at once if the port is idle;
  // else after the current response or data mode. See "Output bound".
  void queue_urc(std::string_view line);

  // Runs what is due at the clock's current time (data-mode timeouts).
  void poll();
  // When poll() next has something to do, if ever.
  std::optional<Clock::time_point> next_deadline() const;

  // True when feed() would consume at least one byte.
  bool wants_input() const noexcept;
  EngineMode mode() const noexcept;

  // The host closed the port (what a DTR drop does under AT&D1): an online
  // port leaves online data mode as if the host had escaped (the link
  // suspended); an upload ends as if its inactivity timeout had passed (no
  // more bytes will come), so the next host's bytes are never taken for the
  // last one's data. What is answered during the call (the escape's OK, an
  // upload's result given at once) is not queued: nobody is there to read
  // it, and the next host must not. No effect in command state or a download.
  void host_gone();

  // A command line asked for multiplexing and ended in OK (see
  // EngineConfig::on_mux): input and URCs wait until end_mux().
  bool muxed() const noexcept;
  // The multiplexer is gone (closed down, the host left): the engine is back
  // in command state with the settings it had, and URCs queued meanwhile go
  // out. No effect unless muxed().
  void end_mux();

  // Back to power-on (muxed() false again): settings = defaults; line buffer, `A/` memory, output
  // and URC queue emptied; a running command or data mode is abandoned
  // (upload/download on_end(kAborted) is called; its Responder is stale).
  void reset();

  const PortSettings& settings() const noexcept;
  PortSettings& settings() noexcept;
  EngineStats stats() const noexcept;

  // Called (on the engine's thread) after any call that changed what the
  // adapter should do: new output, input accepted again, a new deadline.
  // Typically posts one "service the port" job.
  void set_wake(std::function<void()> wake);

 private:
  std::unique_ptr<detail::EngineCore> core_;
};

}  // namespace vmodem::at
