#pragma once

// A 3GPP TS 27.010 multiplexer session (basic option) on one port: what the
// port speaks between AT+CMUX's OK and the close-down. Transport-agnostic
// like Engine: bytes from the host go in through feed(), frames for the host
// come out of pending_output(). PtyPort is its adapter (pty_port.hpp).
//
// Channels:
//  * DLC 0 is the control channel. SABM → UA. DISC → UA, then the whole
//    multiplexer closes (as CLD). UIH (or UI) carries control messages:
//    answered are MSC (echoed as the response; its FC bit stops/resumes
//    that DLC's output), Test (echoed), PN (answered with the accepted
//    values: N1 at most ours, UIH frames, convergence layer 1), PSC
//    (acknowledged; the module does not sleep), FCon / FCoff (all DLCs'
//    output resumes / stops), CLD (answered, then the multiplexer closes).
//    Anything else gets NSC. Responses from the host are ignored.
//  * DLCs 1..kMaxDlc are AT channels, each its own Engine over the shared
//    Registry, with its own settings from the channel EngineConfig's
//    defaults (ATE, ATV, +CMEE ...). SABM opens one (UA, then an MSC command
//    from the module: RTC, RTR, DV; hosts such as gsm0710muxd wait for it
//    before they send); DISC closes it (UA) and drops its engine (a running
//    command is abandoned). SABM on a DLC above kMaxDlc, or before DLC 0 is
//    open, and DISC on a closed DLC get DM.
//  * UIH (or UI) on an open DLC carries AT bytes both ways; the module's
//    output goes out in UIH frames of at most N1 bytes of information.
//    Frames for a closed DLC are dropped (counted).
//  * Frames are checked: bad FCS, information longer than N1, malformed
//    headers are dropped and counted (CmuxStats); bytes between frames are
//    skipped.
//
// URCs (queue_urc): to DLC 1 if open, else to the lowest-numbered open DLC;
// with no DLC open they wait (at most EngineConfig::urc_queue_limit, oldest
// dropped) for the first DLC that opens.
//
// Close-down (CLD, DISC on DLC 0): the answer is queued, every DLC is
// dropped, and closed() turns true; feed() consumes nothing after the frame
// that closed it (what follows is for the port's AT command state). The
// adapter writes out the remaining output and then returns the port to AT
// command mode.
//
// Bound: the output stays below the channel config's output_bound plus one
// frame per DLC; feed() stops consuming while the output or a channel's
// unread input is at its bound (the adapter stops reading, as for Engine).
//
// Thread: not thread-safe; all calls, and every channel engine's handlers,
// on the port's executor. No exceptions on the data path (hostile bytes).

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/at/cmux_frame.hpp>
#include <vmodem/at/cmux_params.hpp>
#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>

namespace vmodem::at {

struct CmuxStats {
  cmux::DecoderStats decoder{};
  std::uint64_t frames_out = 0;
  std::uint64_t dropped_closed_dlc = 0;  // UIH/UI for a DLC that is not open
  std::uint64_t unsupported = 0;         // control messages answered NSC
};

class CmuxSession {
 public:
  static constexpr unsigned kMaxDlc = 4;

  // `registry` must outlive the session. `channel` configures every DLC's
  // engine (its `mux` is set to `params`; its on_mux is cleared: no AT+CMUX
  // inside the multiplexer).
  CmuxSession(const Registry& registry, const CmuxParams& params, EngineConfig channel);
  ~CmuxSession();
  CmuxSession(const CmuxSession&) = delete;
  CmuxSession& operator=(const CmuxSession&) = delete;

  // Offers bytes from the host; returns how many were consumed (see Bound
  // and Close-down).
  std::size_t feed(std::span<const std::uint8_t> bytes);
  // Frames waiting for the host. Invalidated by any non-const call.
  std::span<const std::uint8_t> pending_output() const noexcept;
  void consume_output(std::size_t count);
  // Moves what the channels produced since the last call into frames. Every
  // other non-const call does it too; the adapter calls it after a wake.
  void pump();

  void queue_urc(std::string_view line);
  void poll();
  std::optional<Clock::time_point> next_deadline() const;
  bool wants_input() const noexcept;

  // The multiplexer closed down (see above).
  bool closed() const noexcept { return closed_; }
  // The engine of an open DLC (1..kMaxDlc), else nullptr.
  Engine* channel(unsigned dlci) noexcept;
  const CmuxParams& params() const noexcept { return params_; }
  CmuxStats stats() const noexcept;

  // Called when the session has new output or wants input again (a channel
  // engine woke it). Typically posts one "service the port" job.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

 private:
  struct Channel {
    std::unique_ptr<Engine> engine;
    std::vector<std::uint8_t> inbox;  // host bytes the engine has not taken yet
    bool peer_stopped = false;        // the host's MSC said FC
  };

  bool on_frame(cmux::Frame&& frame);
  void on_control(const cmux::Frame& frame);
  void on_control_message(std::uint8_t type, std::span<const std::uint8_t> value);
  void open_channel(unsigned dlci, bool pf);
  void close_down();
  void reply(unsigned dlci, cmux::FrameType type, bool pf);
  void send(cmux::Frame frame);
  void send_control(std::uint8_t type, bool command, std::span<const std::uint8_t> value);
  void feed_channels();
  bool input_full() const noexcept;
  bool output_full() const noexcept;
  void deliver_urcs();

  const Registry& registry_;
  CmuxParams params_;
  EngineConfig channel_config_;
  cmux::Decoder decoder_;
  std::array<Channel, kMaxDlc + 1> channels_{};  // [0] unused (control)
  std::vector<std::uint8_t> out_;
  std::size_t out_head_ = 0;
  std::deque<std::string> urcs_;  // waiting for a DLC to open
  std::function<void()> wake_;
  CmuxStats stats_;
  unsigned next_pump_ = 1;  // round robin among DLCs
  bool control_open_ = false;
  bool stopped_ = false;  // FCoff
  bool closed_ = false;
};

// Registers AT+CMUX (27.007 §5.7), basic option only:
//   test   +CMUX: (0),(0),(1-6),(1-32767),(1-255),(0-100),(2-255),(1-255),(1-7)
//   read   +CMUX: <the multiplexer's values on a DLC; the defaults outside>
//   write  AT+CMUX=<mode>[,<subset>[,<port_speed>[,<N1>[,<T1>[,<N2>[,<T2>[,<T3>[,<k>]]]]]]]]
//          OK, then the port multiplexes. <mode> or <subset> other than 0:
//          +CME ERROR: 4 (operation not supported); another value out of
//          range: +CME ERROR: 50 (incorrect parameters), both per +CMEE;
//          a parameter that is not a number, or on a DLC (no nesting) or a
//          port that cannot multiplex: ERROR.
void install_cmux_command(Registry& registry);

}  // namespace vmodem::at
