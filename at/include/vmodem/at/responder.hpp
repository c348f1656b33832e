#pragma once

// How a handler answers: information text, the final result, data mode.
// A Responder is a cheap, copyable handle to the command that is running on a
// port. A handler may answer at once, inside its call, or keep a copy and
// answer later (a long operation): the port stays busy, with its input held
// and URCs deferred, until the final result.
//
// Thread: every method must be called on the port's executor (the thread that
// feeds the Engine). Post to it from other threads.
//
// A stale Responder (the command already finished, or the port was reset or
// destroyed) is inert: every method returns false and does nothing.
//
// If every copy of a Responder is destroyed before the command has a final
// result, the engine answers `ERROR` for it: a forgotten handler can never
// leave the host waiting forever.

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
#include <vmodem/at/result.hpp>

namespace vmodem::at {

namespace detail {
struct Ticket;
}  // namespace detail

enum class UploadEnd : std::uint8_t {
  kComplete,   // the expected number of bytes arrived (padding after it was
               // dropped), or, with `ends_at_ctrl_z`, the host sent Ctrl-Z
  kTimeout,    // no byte for `inactivity_timeout`; fewer bytes than expected,
               // or, with `ends_at_ctrl_z`, no Ctrl-Z or ESC yet
  kAborted,    // the port was reset or destroyed; the Responder is already stale
  kCancelled,  // only with `ends_at_ctrl_z`: the host sent ESC (send nothing)
};

// Host → module raw bytes in data mode. Two styles:
//  * Byte-counted (AT+QFUPL, AT+QISEND=<id>,<len>): exactly `expected_bytes`
//    bytes are data, then trailing padding (see `trailing_grace`).
//  * Text-style (`ends_at_ctrl_z`; AT+QISEND=<id>, AT+CMGS): data until
//    Ctrl-Z (send) or ESC (cancel).
// Either style announces data mode with CONNECT, or with `prompt`. Data bytes
// are never echoed, whatever ATE says.
struct UploadSpec {
  // Byte-counted: bytes to receive; nullopt = until the inactivity timeout.
  // With `ends_at_ctrl_z`: the most bytes delivered; data bytes past it are
  // dropped (counted in EngineStats::bytes_discarded) and the Ctrl-Z or ESC
  // still ends the upload; nullopt = no limit.
  std::optional<std::size_t> expected_bytes;
  // Measured from the announcement (CONNECT or the prompt) and then from each
  // byte received.
  std::chrono::milliseconds inactivity_timeout{5000};
  // Byte-counted only (ignored with `ends_at_ctrl_z`): after the last expected
  // byte, bytes that keep arriving with gaps shorter than this are trailing
  // padding and are dropped; `on_end(kComplete)` comes once the line has been
  // quiet this long. Zero ends the upload at once (any padding then reaches
  // the command parser and earns `ERROR`).
  std::chrono::milliseconds trailing_grace{20};
  // How data mode is announced. nullopt: the CONNECT result code, framed per
  // ATV and suppressed by ATQ1 like any result code (AT+QFUPL). Otherwise
  // these bytes, written exactly as given, with no framing before or after,
  // in verbose and numeric mode alike, and even under ATQ1 (the host cannot
  // send without it): `"> "` for Quectel's AT+QISEND; 27.005 AT+CMGS
  // specifies `"\r\n> "`.
  std::optional<std::string> prompt;
  // Text-style end. Every byte is data until a Ctrl-Z (0x1A), which ends the
  // upload with kComplete, or an ESC (0x1B), which ends it with kCancelled.
  // Neither is delivered to on_data; the byte after it is the start of the
  // next command line (no padding is dropped, `trailing_grace` is ignored).
  // A CR, LF or `AT` among the data is data. `expected_bytes` is a maximum.
  // The inactivity timeout still applies (kTimeout).
  bool ends_at_ctrl_z = false;
  // Data in arrival order, never more than `expected_bytes` in total; not
  // called any more once the handler has given its final answer.
  std::function<void(std::span<const std::uint8_t>)> on_data;
  // Called once when data mode ends, unless the handler already answered;
  // the port is back in command state, so the handler now gives the final
  // result (e.g. `+QFUPL: <size>,<sum>`, OK). `received` counts bytes
  // delivered to on_data.
  std::function<void(UploadEnd end, std::size_t received)> on_end;
};

enum class DownloadEnd : std::uint8_t {
  kComplete,  // `fill` returned 0
  kAborted,   // the port was reset or destroyed; the Responder is already stale
};

// Module → host raw bytes after `CONNECT` (e.g. AT+QFDWL). The engine pulls
// data only while its output buffer has room, so a slow host slows the
// download instead of growing memory. Host input during a download is dropped.
struct DownloadSpec {
  // Writes up to `room.size()` bytes into `room` and returns how many; 0 means
  // the download is over.
  std::function<std::size_t(std::span<std::uint8_t> room)> fill;
  // Called once after the last byte was queued; the handler then gives the
  // final result (`+QFDWL: <size>,<sum>`, OK).
  std::function<void(DownloadEnd end)> on_end;
};

// Online data mode (V.250's online data state; Quectel's transparent access
// mode): after CONNECT every byte in either direction is data, until the host
// escapes with `+++` or the connection ends. The command that went online is
// over (its Responder is stale); the connection holds an OnlineLink.
//
// Escape: `+++` (three S2 characters) with at least EngineConfig::escape_guard
// of silence before the first `+`, all three within the guard, and the guard
// of silence after them. The engine then prints OK and the port is in command
// state with the link suspended: ATO resumes it (CONNECT), and a handler may
// take the port online again for another link. Pluses that turn out not to be
// an escape are data, delivered late but in order.
enum class OnlineEvent : std::uint8_t {
  kSuspended,  // the host escaped; OK was printed; the port is in command state
  kResumed,    // ATO: CONNECT was printed; the port is online again
  kDetached,   // the port let go of the link for good: reset, or another link
               // went online on the port; the link is stale from now on
};

struct OnlineSpec {
  // Host → peer bytes, the escape sequence removed.
  std::function<void(std::span<const std::uint8_t>)> on_data;
  // Changes of the link's state the engine made (not those the link made
  // itself through OnlineLink::hang_up()).
  std::function<void(OnlineEvent)> on_event;
  // After a write left the output full (OnlineLink::has_room() false): there
  // is room again.
  std::function<void()> on_writable;
};

namespace detail {
struct OnlineTicket;
}  // namespace detail

// The connection's handle on its port while it is online or suspended. A
// stale link (hung up, detached, engine gone) is inert. Same thread rule as
// Responder.
class OnlineLink {
 public:
  OnlineLink() = default;  // stale
  explicit OnlineLink(std::shared_ptr<detail::OnlineTicket> ticket) : ticket_(std::move(ticket)) {}

  // The port is in online data mode for this link (not suspended, not stale).
  bool online() const noexcept;
  // Online or suspended: ATO can still resume it.
  bool linked() const noexcept;
  // Peer → host bytes, written raw (never dropped). Only while online:
  // returns how many were written, all of them or 0 (not online; keep them
  // for later).
  std::size_t write(std::span<const std::uint8_t> bytes);
  // Online and the output is below its bound. When a write leaves it full,
  // stop writing until OnlineSpec::on_writable.
  bool has_room() const noexcept;
  // While held, the engine takes no host bytes in online mode, so the host's
  // writes back up in the kernel (the peer side is not keeping up).
  void hold_input(bool hold);
  // The connection ended. Online: the engine prints NO CARRIER and the port
  // is in command state. Suspended: the link is forgotten (ATO then answers
  // NO CARRIER). The link is stale afterwards; no on_event follows.
  void hang_up();

 private:
  std::shared_ptr<detail::OnlineTicket> ticket_;
};

class Responder {
 public:
  Responder() = default;  // stale
  explicit Responder(std::shared_ptr<detail::Ticket> ticket) : ticket_(std::move(ticket)) {}

  // True while the command is running and this handle can still answer.
  bool active() const noexcept;

  // One line of information text, framed per ATV (`\r\n<line>\r\n` for the
  // first line of a block). Refused (false) in data mode.
  bool info(std::string_view line);
  // Bytes exactly as given (no framing), e.g. the `A` acks of an upload in ack
  // mode or the payload of AT+QFREAD. Never dropped by the output bound.
  bool write_raw(std::span<const std::uint8_t> bytes);
  bool write_raw(std::string_view bytes);

  // This command succeeded; the line goes on with its next command, and the
  // final `OK` is printed once the whole line has succeeded.
  bool ok();
  // This command failed; the rest of the line is skipped.
  bool fail(Failure failure);
  bool error() { return fail(Failure::error()); }
  bool cme_error(int code) { return fail(Failure::cme(code)); }
  // Ends the command line with a final result of the command's own instead
  // of OK (`SEND OK`); see Failure::text. `text` must be a string literal.
  bool final_text(std::string_view text) { return fail(Failure::text(text)); }

  // Prints `CONNECT` (an upload: or its `prompt`) and switches the port to
  // data mode. Precondition: not already in data mode. Returns false if stale
  // or the precondition fails. Once data mode is announced the engine owns the
  // end of the data: a final answer (ok/fail) given during an upload (the
  // write failed part-way) stops the delivery to on_data, but the engine
  // still consumes exactly the announced bytes and the padding after them
  // (byte-counted), or every byte up to the Ctrl-Z or ESC (`ends_at_ctrl_z`),
  // or waits for the inactivity timeout, and only then prints the answer;
  // on_end is not called. So no byte the host meant as data is ever parsed as
  // a command. A final answer given during a download ends it at once,
  // without on_end.
  bool start_upload(UploadSpec spec);
  bool start_download(DownloadSpec spec);
  // Prints CONNECT and takes the port online for a new link (see OnlineSpec).
  // This command is over (the rest of its command line is not run, as after
  // any CONNECT); a suspended link of the port is detached. Returns a stale
  // link if this Responder is stale or the port is in data mode.
  OnlineLink go_online(OnlineSpec spec);
  // ATO: resumes the port's suspended link (CONNECT, OnlineEvent::kResumed).
  // False, and nothing printed, if there is none.
  bool resume_online();

  // AT+CMUX: once this command line ends in OK, the port switches to 27.010
  // multiplexing with `params` (EngineConfig::on_mux). Answer ok() after it.
  // False (nothing requested) if stale or the port cannot multiplex (no
  // on_mux, e.g. a multiplexer channel: no nesting).
  bool start_mux(const CmuxParams& params);
  // The multiplexer's parameters if this port is one of its channels.
  std::optional<CmuxParams> mux_params() const;

  // The command will never be answered: the module lost power inside it.
  // Every copy of this Responder goes stale; the engine stays in the command
  // (input waits) until reset(), which the power-off does. Without this, the
  // last copy's destruction answers ERROR, which a module without power
  // must not say.
  void abandon();

 private:
  std::shared_ptr<detail::Ticket> ticket_;
};

}  // namespace vmodem::at
