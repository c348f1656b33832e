#pragma once

// A module port served on a pseudo-terminal, driven by Boost.Asio: the host
// opens the stable symlink (e.g. `<state>/ttyUSB2`) like a real serial device.
// The PTY is only an adapter: the Engine inside does all the AT work.
//
// Styles, as a module reset looks to the host:
//  * kUsb: disconnect() closes the PTY and removes the symlink (the host's fd
//    reads EOF, writes fail with EIO); reconnect() makes a new PTY and points
//    the symlink at it. The host must reopen, as after USB re-enumeration.
//  * kUart: the PTY and the host's fd stay. While disconnected the port
//    answers nothing (input is read and dropped); reconnect() resumes.
// Either way the engine is reset (power-on settings, queues emptied, a running
// command abandoned).
//
// A host that closes the port takes what was meant for it along, as a USB
// port's buffers go with it: answers not yet read (also in the kernel), and
// the answer of a command of its still running. What it wrote before closing
// still runs, before the close counts as a DTR drop (Engine::host_gone): the
// last bytes of an upload are data. Output made while no host has the port
// open (RDY at boot, URCs) waits in the engine, within its bound, for the
// next opener. Arrivals and departures are counted from inotify's ordered
// open/close events, so a close followed at once by the next host's open is
// still a departure (the multiplexer ends, DTR drops); then, as the port
// cannot tell whose bytes it read meanwhile, nothing already answered is
// dropped.
//
// Thread: all methods, and all Responder calls of handlers on this port, must
// run on `executor` (the simulator owns the io_context; post to it from other
// threads). Construction and open() may happen before the io_context runs.
// The Registry must outlive the port. Data-mode timeouts use real time
// (steady_clock) through an Asio timer; the engine's clock is not injectable
// here (test the engine directly for simulated time).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <tl/expected.hpp>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/error.hpp>
#include <vmodem/at/registry.hpp>

namespace vmodem::at {

class CmuxSession;

enum class PortStyle : std::uint8_t { kUsb, kUart };

enum class TraceDirection : std::uint8_t { kFromHost, kToHost };

struct PtyPortOptions {
  // The stable path the host opens. Its directory must exist; an existing
  // file or link at that path is replaced.
  std::filesystem::path link;
  PortStyle style = PortStyle::kUsb;
  // Engine settings; `now` is ignored (real time).
  EngineConfig engine{};
  // open() leaves the port disconnected (a kUsb port then has no PTY and no
  // link yet; a kUart port has its PTY but answers nothing), for a module
  // that is not powered on yet. present()/reconnect() bring it up.
  bool start_disconnected = false;
  // Every byte read from / written to the host (for an AT trace). Optional.
  std::function<void(TraceDirection, std::span<const std::uint8_t>)> trace{};
  // Called each time `link` has been pointed at a new PTY of this port, so
  // the owner can track the links it made (a helper that removes them when
  // the process dies). Optional.
  std::function<void(const std::filesystem::path& link)> linked{};
  // While this returns true nothing more is written to the host: the module
  // lost power inside a command, whose handler may still answer before the
  // owner's disconnect() (which drops that answer) runs. Optional; may be
  // called from the executor only.
  std::function<bool()> silenced{};
  // An output-only port (a module's NMEA port): there is no AT engine to
  // talk to — what the host writes is read and dropped — and send_line() is
  // how bytes go out. Optional.
  bool output_only = false;
  // Called when the first host opens the PTY (true) and when the last one
  // closes it (false), after the port has acted on it; a host that came and
  // went between two looks is told as both, in order. Not called when the
  // port itself goes away (disconnect()). Optional.
  std::function<void(bool open)> host_changed{};
};

class PtyPort {
 public:
  PtyPort(boost::asio::any_io_executor executor, const Registry& registry, PtyPortOptions options);
  // Closes the PTY and removes the symlink.
  ~PtyPort();
  PtyPort(const PtyPort&) = delete;
  PtyPort& operator=(const PtyPort&) = delete;

  // Creates the PTY (raw mode) and the symlink, and starts serving. A kUsb
  // port opened disconnected removes a symlink left at `link` (a previous
  // process's, naming a PTY that is no longer its own) instead.
  // Precondition: not open. Errors: kSystem (openpty, termios, symlink),
  // kInvalidArgument if already open.
  tl::expected<void, Error> open();

  // The module went away (reset, power off). See the styles above. Idempotent.
  void disconnect();
  // The port exists but the firmware behind it does not answer yet (a module
  // booting): kUsb gets its PTY and symlink (the host can open it), input is
  // read and dropped and nothing is sent, as for a disconnected kUart port.
  // reconnect() then starts answering on the same PTY. No-op if connected.
  tl::expected<void, Error> present();
  // The module is back. kUsb: a new PTY and the symlink moved to it (errors as
  // open()), or the PTY present() made; kUart: answering resumes. No-op if
  // connected.
  tl::expected<void, Error> reconnect();

  bool connected() const noexcept;
  // The current `/dev/pts/N` (empty while a USB port is disconnected).
  std::filesystem::path device_path() const;
  const std::filesystem::path& link_path() const noexcept;
  PortStyle style() const noexcept;

  // The port's engine: read settings and stats. While the port multiplexes
  // it waits (muxed()) and each DLC has an engine of its own (mux()).
  Engine& engine() noexcept;
  // Queues a URC for the host: to the engine, or while the port multiplexes
  // to the DLC CmuxSession::queue_urc picks.
  void queue_urc(std::string_view line);
  // The 27.010 session while the port multiplexes, else nullptr. AT+CMUX
  // starts one once its OK is written; it ends with the close-down (CLD or
  // DISC on DLC 0: the port is back in AT command state, with the engine's
  // settings as they were), a disconnect() (reset, power-off, power cut) or
  // the host closing the port (as a USB port going away).
  CmuxSession* mux() noexcept;
  // An output-only port: `line` and CR LF go out as they are, while a host
  // has the port open and reads; otherwise the line is lost, as a USB
  // endpoint's data is when nobody reads it (at most 64 KiB wait for a slow
  // reader). Ignored on an AT port and while disconnected.
  void send_line(std::string_view line);
  boost::asio::any_io_executor executor() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmodem::at
