#pragma once

// The engine's state machine. Split over several files by concern:
//   engine_core.cpp     entry points, re-entrancy guard, reset
//   engine_line.cpp     command-state bytes: echo, S3/S5, `A/`, line limit
//   engine_chain.cpp    running the commands of a line, final results
//   engine_data.cpp     data mode (upload / download)
//   engine_online.cpp   online data mode (OnlineLink), the `+++` escape
//   engine_output.cpp   framing of text and result codes, URC queue

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/at/command.hpp>
#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/at/responder.hpp>

#include "byte_queue.hpp"

namespace vmodem::at::detail {

class EngineCore {
 public:
  EngineCore(const Registry& registry, EngineConfig config);
  ~EngineCore();
  EngineCore(const EngineCore&) = delete;
  EngineCore& operator=(const EngineCore&) = delete;

  // --- Engine API (see engine.hpp) ---
  std::size_t feed(std::span<const std::uint8_t> bytes);
  std::span<const std::uint8_t> pending_output() const noexcept { return out_.view(); }
  void consume_output(std::size_t count);
  void queue_urc(std::string_view line);
  void poll();
  std::optional<Clock::time_point> next_deadline() const;
  bool wants_input() const noexcept;
  EngineMode mode() const noexcept { return mode_; }
  void reset();
  PortSettings& settings() noexcept { return settings_; }
  EngineStats stats() const noexcept { return stats_; }
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // --- Responder API: each returns false if `id` is not the running command ---
  bool is_current(std::uint64_t id) const noexcept { return pending_ && id == command_id_; }
  bool respond_info(std::uint64_t id, std::string_view line);
  bool respond_raw(std::uint64_t id, std::span<const std::uint8_t> bytes);
  bool complete(std::uint64_t id, std::optional<Failure> failure);
  bool start_upload(std::uint64_t id, UploadSpec spec);
  bool start_download(std::uint64_t id, DownloadSpec spec);
  void abandon(std::uint64_t id);
  OnlineLink go_online(std::uint64_t id, OnlineSpec spec);
  bool resume_online(std::uint64_t id);
  void host_gone();
  bool start_mux(std::uint64_t id, const CmuxParams& params);
  std::optional<CmuxParams> mux_params() const { return config_.mux; }
  bool muxed() const noexcept { return muxed_; }
  void end_mux();

  // --- OnlineLink API: each does nothing if `link` is not the port's link ---
  bool link_online(std::uint64_t link) const noexcept {
    return link != 0 && link == link_id_ && mode_ == EngineMode::kOnline;
  }
  bool link_linked(std::uint64_t link) const noexcept { return link != 0 && link == link_id_; }
  std::size_t link_write(std::uint64_t link, std::span<const std::uint8_t> bytes);
  bool link_has_room(std::uint64_t link) const noexcept {
    return link_online(link) && !output_full();
  }
  void link_hold_input(std::uint64_t link, bool hold);
  void link_hang_up(std::uint64_t link);

 private:
  // Counts nested entries (a handler may call back into the engine while the
  // engine is calling it). Work that must not run under a caller's feet
  // (destroying handler callbacks, waking the adapter) waits for the
  // outermost exit.
  class Entry {
   public:
    explicit Entry(EngineCore& core) : core_(core) { ++core_.depth_; }
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

   private:
    EngineCore& core_;
  };

  // engine_line.cpp
  void on_command_byte(std::uint8_t byte);
  void complete_line();
  void execute_line(const std::string& line);
  void repeat_last_line();
  void echo(std::uint8_t byte);

  // engine_chain.cpp
  void run_chain();
  void dispatch(const Command& command);
  void end_chain();
  void reject_line();

  // engine_data.cpp
  std::size_t on_upload_bytes(std::span<const std::uint8_t> bytes);
  std::size_t on_text_upload_bytes(std::span<const std::uint8_t> bytes);
  bool swallow_terminator_lf(std::span<const std::uint8_t> bytes);
  void deliver_upload(std::span<const std::uint8_t> bytes);
  void finish_upload(UploadEnd end);
  // Opens the trailing-padding window after an upload (none for a zero grace).
  void begin_padding(Clock::time_point now, std::chrono::milliseconds grace);
  // True (and counted as discarded) when `byte` is trailing padding.
  bool drop_padding(std::uint8_t byte);
  void pump_download();
  void finish_download(DownloadEnd end);
  void abort_data_mode();
  void release_data_specs();
  // Announces data mode: `prompt` as is, or CONNECT if there is none.
  void enter_data_mode(EngineMode mode, const std::optional<std::string>& prompt);

  // engine_online.cpp
  std::size_t on_online_bytes(std::span<const std::uint8_t> bytes);
  void deliver_online(std::span<const std::uint8_t> bytes);
  // Puts the port online for the link in online_ (CONNECT; ends the line).
  void enter_online();
  void escape_online();
  // Forgets the port's link and tells it (OnlineEvent::kDetached).
  void detach_link();
  void release_link();
  void poll_online(Clock::time_point now);
  std::optional<Clock::time_point> online_deadline() const;

  // engine_output.cpp
  void emit_info(std::string_view line);
  void emit_result(ResultCode code);
  void emit_failure(const Failure& failure);
  void emit_urc(std::string_view line);
  void emit_text_line(std::string_view text, bool header);
  void flush_urcs();
  bool output_full() const noexcept { return out_.size() >= config_.output_bound; }
  void append_output(std::string_view text);
  void append_output(std::span<const std::uint8_t> bytes);

  const Registry& registry_;
  EngineConfig config_;
  // Tickets watch this to know the engine still exists.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::function<void()> wake_;
  // Handler callbacks released while they may still be on the stack; freed at
  // the outermost exit.
  std::vector<std::shared_ptr<UploadSpec>> retired_uploads_;
  std::vector<std::shared_ptr<DownloadSpec>> retired_downloads_;
  std::vector<std::shared_ptr<OnlineSpec>> retired_links_;

  // Bumped by reset(): a chain that sees it change stops touching state.
  std::uint64_t epoch_ = 0;

  // Command state (line discipline).
  std::string line_;
  std::string last_line_;  // for `A/`

  // The running line.
  std::vector<Command> chain_;
  std::size_t next_command_ = 0;
  std::uint64_t command_id_ = 0;
  std::optional<Failure> failure_;

  // Data mode. Specs are shared so a callback can keep its own spec alive
  // while it runs, even if it answers (which releases the spec) from inside.
  std::shared_ptr<UploadSpec> upload_;
  // Announced bytes consumed, delivered or not; in the Ctrl-Z style the data
  // bytes within the maximum (those past it are discarded, not counted).
  std::size_t upload_received_ = 0;
  Clock::time_point upload_deadline_{};
  // After a byte-counted upload: until then (extended by each dropped
  // byte), bytes before the next command are trailing padding.
  std::optional<Clock::time_point> padding_until_;
  std::chrono::milliseconds padding_grace_{0};
  std::shared_ptr<DownloadSpec> download_;
  std::vector<std::uint8_t> download_scratch_;
  // Output bytes (CONNECT or the upload's prompt, and what precedes it) the
  // host has not been handed yet; while any remain, the host cannot have
  // seen CONNECT.
  std::size_t connect_unsent_ = 0;

  // Online data mode: the port's link (online, or suspended when mode_ is
  // not kOnline); link_id_ 0 = none. Links are numbered so that a stale
  // OnlineLink can never act on a later one.
  std::shared_ptr<OnlineSpec> link_;
  std::uint64_t link_id_ = 0;
  std::uint64_t last_link_id_ = 0;
  Clock::time_point online_last_input_{};
  Clock::time_point online_first_plus_{};
  std::vector<std::uint8_t> online_scratch_;

  // AT+CMUX asked on the running line; taken up if the line ends in OK.
  std::optional<CmuxParams> mux_request_;

  ByteQueue out_;
  std::deque<std::string> urcs_;
  EngineStats stats_;

  // Small fields last (packing).
  PortSettings settings_;
  int depth_ = 0;
  EngineMode mode_ = EngineMode::kCommand;
  bool line_overflow_ = false;
  bool pending_ = false;      // command `command_id_` has not answered yet
  bool dispatching_ = false;  // inside a handler call
  bool block_open_ = false;   // information text of this command has started
  // The handler gave its final answer during the upload: the announced bytes
  // are still consumed (and dropped), the answer is printed after them.
  bool upload_answered_ = false;
  // The last byte consumed was the S3 ending a command line: an LF right
  // after it is the tail of a CR LF terminator, even in data mode.
  bool after_s3_ = false;
  // Escape characters held back in online mode: maybe `+++`, maybe data.
  std::uint8_t online_pluses_ = 0;
  bool online_hold_ = false;        // OnlineLink::hold_input
  bool online_wants_room_ = false;  // a link write filled the output
  bool muxed_ = false;              // the port multiplexes (EngineConfig::on_mux)
  // Inside host_gone(): what the engine says now has no one to hear it
  // (URCs stay queued).
  bool unheard_ = false;
};

}  // namespace vmodem::at::detail
