// The Asio adapter: PTY master bytes <-> Engine, one read, one write and one
// timer in flight at most.

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <vmodem/at/cmux.hpp>
#include <vmodem/at/pty_port.hpp>

#include "open_watch.hpp"
#include "pty_device.hpp"

namespace vmodem::at {

namespace asio = boost::asio;

class PtyPort::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor executor, const Registry& registry, PtyPortOptions options)
      : executor_(std::move(executor)),
        registry_(registry),
        options_(std::move(options)),
        engine_(registry, port_engine_config(options_.engine)),
        timer_(executor_) {}

  tl::expected<void, Error> open();
  void disconnect();
  tl::expected<void, Error> present();
  tl::expected<void, Error> reconnect();
  void close();

  bool connected() const noexcept { return connected_; }
  std::filesystem::path device_path() const { return device_path_; }
  const PtyPortOptions& options() const noexcept { return options_; }
  Engine& engine() noexcept { return engine_; }
  CmuxSession* mux() noexcept { return session_.get(); }
  void queue_urc(std::string_view line);
  const asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  static EngineConfig engine_config(EngineConfig config) {
    config.now = [] { return Clock::now(); };
    return config;
  }
  // The port's own engine may hand the port to a multiplexer (AT+CMUX).
  EngineConfig port_engine_config(EngineConfig config) {
    config = engine_config(std::move(config));
    config.on_mux = [this](const CmuxParams& params) {
      mux_request_ = params;
      request_service();
    };
    return config;
  }

  // The byte stream's current endpoint: the multiplexer while there is one,
  // else the engine.
  std::span<const std::uint8_t> output() const noexcept {
    return session_ ? session_->pending_output() : engine_.pending_output();
  }
  void consume(std::size_t count) {
    if (session_) {
      session_->consume_output(count);
    } else {
      engine_.consume_output(count);
    }
  }
  bool wants_input() const noexcept {
    return session_ ? session_->wants_input() : engine_.wants_input();
  }
  void maybe_start_mux();
  void maybe_end_mux();
  void end_mux_now();

  tl::expected<void, Error> open_pty();
  void close_pty();
  void request_service();
  void service();
  void feed_held_input();
  void drop_output();
  tl::expected<void, Error> start_watch();
  void on_watch_event(bool opened);
  void on_no_opener_left();
  void forget_departed_host();
  void discard_unread();
  void tell_host_changed(bool open) const;
  void start_read();
  void start_write();
  void arm_timer();
  void trace(TraceDirection direction, std::span<const std::uint8_t> bytes) const {
    if (options_.trace) options_.trace(direction, bytes);
  }

  asio::any_io_executor executor_;
  const Registry& registry_;
  PtyPortOptions options_;
  Engine engine_;
  // AT+CMUX: the engine's OK is on its way out; then the session starts.
  std::optional<CmuxParams> mux_request_;
  std::unique_ptr<CmuxSession> session_;
  asio::steady_timer timer_;
  std::optional<asio::posix::stream_descriptor> master_;
  detail::OpenWatch open_watch_;  // the slave opened/closed
  std::filesystem::path device_path_;

  std::array<std::uint8_t, 4096> read_buffer_{};
  std::vector<std::uint8_t> held_input_;  // read but not yet taken by the engine
  std::size_t held_offset_ = 0;
  std::vector<std::uint8_t> write_buffer_;  // a copy: the engine's view moves

  // Completions of operations started before a disconnect carry an older
  // generation and are ignored.
  std::uint64_t generation_ = 0;
  // Bumped when the engine's output is thrown away (UART reset): a write in
  // flight then must not consume the engine's new output.
  std::uint64_t output_epoch_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  // A host has the slave open (as last seen). Nothing is written while none
  // has: output waits in the engine for the next opener.
  bool host_open_ = false;
  // The master read EIO: no opener and nothing left to read. Reading waits
  // for the watch to report an open.
  bool hung_up_ = false;
  // A host opened the slave and closed it again between two looks: it may
  // have left commands (read until EIO) and takes their answers along.
  bool unseen_visit_ = false;
  // Bytes were read since the last departure: their answers are the
  // departed host's if nobody has the port open at EIO.
  bool heard_ = false;
  // The host closed the port while a command of its ran: that command's
  // answer is the closed host's, not the next opener's.
  bool drop_until_idle_ = false;

  bool in_service_ = false;  // service() follows up itself; no wake needed
  bool service_posted_ = false;
  bool opened_ = false;
  bool connected_ = false;
  bool muted_ = false;  // UART port while the module is away
};

tl::expected<void, Error> PtyPort::Impl::open() {
  if (opened_) return tl::unexpected(Error{ErrorCode::kInvalidArgument, "port already open", 0});
  // The engine wakes us from inside its calls; the job runs later on our
  // executor, never re-entrantly.
  engine_.set_wake([this] { request_service(); });
  if (options_.start_disconnected) {
    // Never create a link that vanishes at once: a host polling for it
    // could open a PTY that dies under it. A link already there was left by
    // a process that died without removing it: it names a PTY that is not
    // ours (the kernel hands the number out again, maybe to another module),
    // so a host must not find it.
    if (options_.style == PortStyle::kUsb) detail::remove_symlink(options_.link);
    if (options_.style == PortStyle::kUart) {
      if (auto opened = open_pty(); !opened) return opened;
      muted_ = true;
    }
    opened_ = true;
    connected_ = false;
    request_service();
    return {};
  }
  if (auto opened = open_pty(); !opened) return opened;
  opened_ = true;
  connected_ = true;
  request_service();
  return {};
}

tl::expected<void, Error> PtyPort::Impl::open_pty() {
  auto pty = detail::PtyPair::open_raw();
  if (!pty) return tl::unexpected(pty.error());
  device_path_ = pty->slave_path();
  // Watched before the path is published (the symlink comes next): no
  // host's open can go unseen.
  if (auto watched = start_watch(); !watched) {
    device_path_.clear();
    return watched;
  }
  if (auto linked = detail::point_symlink(options_.link, pty->slave_path()); !linked) {
    open_watch_.reset();
    device_path_.clear();
    return tl::unexpected(linked.error());
  }
  master_.emplace(executor_, pty->release_master());
  host_open_ = detail::has_opener(master_->native_handle());
  hung_up_ = false;
  unseen_visit_ = false;
  heard_ = false;
  if (options_.linked) options_.linked(options_.link);
  return {};
}

void PtyPort::Impl::close_pty() {
  ++generation_;
  reading_ = false;
  writing_ = false;
  host_open_ = false;
  hung_up_ = false;
  unseen_visit_ = false;
  heard_ = false;
  drop_until_idle_ = false;
  timer_.cancel();
  boost::system::error_code ignored;
  if (master_) {
    master_->close(ignored);
    master_.reset();
  }
  open_watch_.reset();
  device_path_.clear();
  held_input_.clear();
  held_offset_ = 0;
}

void PtyPort::Impl::disconnect() {
  // A USB port that is present but silent still has a PTY to take away.
  const bool live = connected_ || (options_.style == PortStyle::kUsb && master_);
  if (!opened_ || !live) return;
  connected_ = false;
  end_mux_now();  // a reset or power-off ends the multiplexer
  if (options_.style == PortStyle::kUsb) {
    close_pty();
    detail::remove_symlink(options_.link);
  } else {
    muted_ = true;
    held_input_.clear();
    held_offset_ = 0;
    ++output_epoch_;
  }
  engine_.reset();
  request_service();
}

tl::expected<void, Error> PtyPort::Impl::present() {
  if (!opened_) return tl::unexpected(Error{ErrorCode::kInvalidArgument, "port not open", 0});
  if (connected_) return {};
  if (options_.style == PortStyle::kUsb && !master_) {
    if (auto reopened = open_pty(); !reopened) return reopened;
  }
  muted_ = true;
  request_service();
  return {};
}

tl::expected<void, Error> PtyPort::Impl::reconnect() {
  if (!opened_) return tl::unexpected(Error{ErrorCode::kInvalidArgument, "port not open", 0});
  if (connected_) return {};
  if (options_.style == PortStyle::kUsb && !master_) {
    if (auto reopened = open_pty(); !reopened) return reopened;
  }
  muted_ = false;
  connected_ = true;
  request_service();
  return {};
}

void PtyPort::Impl::close() {
  engine_.set_wake({});
  session_.reset();
  mux_request_.reset();
  close_pty();
  if (opened_) detail::remove_symlink(options_.link);
  opened_ = false;
  connected_ = false;
}

void PtyPort::Impl::request_service() {
  if (service_posted_ || in_service_) return;
  service_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->service_posted_ = false;
    self->service();
  });
}

void PtyPort::Impl::service() {
  if (!master_) return;
  in_service_ = true;
  if (muted_) {
    drop_output();  // a UART port of a module that is off: nothing goes out
  } else {
    if (drop_until_idle_) {
      drop_output();
      // Dropping may have let the command finish (a download's last data
      // and result): that output is the departed host's too.
      if (engine_.mode() == EngineMode::kCommand) {
        drop_output();
        drop_until_idle_ = false;
      }
    }
    maybe_start_mux();
    if (session_) session_->pump();
    // Also what a host wrote just before it closed the port: a real module
    // runs a command whoever is left to read the answer.
    feed_held_input();
    maybe_end_mux();
  }
  start_write();
  arm_timer();
  start_read();
  in_service_ = false;
}

void PtyPort::Impl::feed_held_input() {
  while (held_offset_ < held_input_.size()) {
    const auto rest = std::span<const std::uint8_t>(held_input_).subspan(held_offset_);
    const std::size_t used = session_ ? session_->feed(rest) : engine_.feed(rest);
    if (used == 0) return;  // busy or output full: the engine wakes us later
    held_offset_ += used;
  }
  held_input_.clear();
  held_offset_ = 0;
}

// The engine's OK to AT+CMUX is written: from the next byte on, the port
// speaks 27.010. Bytes the host sent after the command line (its SABM, maybe
// in the same read) wait in held_input_ for the session.
void PtyPort::Impl::maybe_start_mux() {
  if (!mux_request_ || writing_ || !engine_.pending_output().empty()) return;
  auto session =
      std::make_unique<CmuxSession>(registry_, *mux_request_, engine_config(options_.engine));
  mux_request_.reset();
  session->set_wake([this] { request_service(); });
  session_ = std::move(session);
}

// Close-down: once its last answer is out, the port is back in AT command
// state; what the host sent after the close-down goes to the engine.
void PtyPort::Impl::maybe_end_mux() {
  if (!session_ || !session_->closed() || writing_ || !session_->pending_output().empty()) return;
  session_.reset();
  engine_.end_mux();
  feed_held_input();
}

// The host left or the module went away: no close-down to answer.
void PtyPort::Impl::end_mux_now() {
  session_.reset();
  mux_request_.reset();
  engine_.end_mux();
}

void PtyPort::Impl::queue_urc(std::string_view line) {
  if (session_) {
    session_->queue_urc(line);
  } else {
    engine_.queue_urc(line);
  }
}

void PtyPort::Impl::drop_output() {
  const std::size_t stale = engine_.pending_output().size();
  if (stale > 0) engine_.consume_output(stale);
}

// The watch lives as long as the PTY: it is how a host's arrival is seen
// (nothing is read then), and a host's departure while no read runs (a
// command executing). Its events come for this PTY's generation only.
tl::expected<void, Error> PtyPort::Impl::start_watch() {
  std::weak_ptr<Impl> weak = shared_from_this();
  auto watch = detail::OpenWatchService::of(executor_).watch(
      executor_, device_path_.string(), [weak, generation = generation_](bool opened) {
        const auto self = weak.lock();
        if (!self || generation != self->generation_ || !self->master_) return;
        self->on_watch_event(opened);
      });
  if (!watch) return tl::unexpected(watch.error());
  open_watch_ = std::move(*watch);
  return {};
}

void PtyPort::Impl::on_watch_event(bool opened) {
  const bool was_open = host_open_;
  host_open_ = detail::has_opener(master_->native_handle());
  // Read again whatever happened: an arriving host's commands, the last
  // bytes of a departing one, or EIO.
  hung_up_ = false;
  if (opened && !was_open && !host_open_) unseen_visit_ = true;
  const bool departed = was_open && !host_open_;
  if (departed) forget_departed_host();  // may find a new host already there
  service();
  if (departed) tell_host_changed(false);
  if (host_open_ && (departed || !was_open)) tell_host_changed(true);
}

void PtyPort::Impl::on_no_opener_left() {
  hung_up_ = true;
  const bool was_open = host_open_;
  const bool visited = std::exchange(unseen_visit_, false);
  host_open_ = false;
  if (was_open || visited || heard_) forget_departed_host();
  service();
  if (visited && !was_open) tell_host_changed(true);
  if (visited || was_open) tell_host_changed(false);
  if (host_open_) tell_host_changed(true);  // one arrived while we discarded
}

// What was meant for a host that closed the port goes with it, as a USB
// port's buffers do: queued output, the answer of a command still running,
// and bytes the kernel holds for the slave. URCs not yet sent stay queued.
void PtyPort::Impl::forget_departed_host() {
  heard_ = false;
  // A USB port that goes away takes the multiplexer along: the next opener
  // finds the port in AT command state.
  end_mux_now();
  // A closed port is a DTR drop: under AT&D1 an online port goes back to
  // command state and its link is suspended, not lost; an upload ends.
  engine_.host_gone();
  if (!muted_) {
    drop_output();
    ++output_epoch_;  // a write in flight must not consume later output
    drop_until_idle_ = engine_.mode() != EngineMode::kCommand;
  }
  if (writing_) {
    // The rest of that write must not reach the next opener. Cancelled on
    // the executor's thread, it writes nothing more from here on.
    boost::system::error_code ignored;
    master_->cancel(ignored);
  }
  discard_unread();
}

void PtyPort::Impl::discard_unread() {
  // Failing here (the slave cannot be opened) leaves the stale bytes for the
  // next opener; nothing else is lost, and there is no one to tell.
  (void)detail::discard_unread(master_->native_handle(), device_path_.string());
  // That open and close of the slave were ours, not a host's: drop their
  // events, then look again, in case a host opened meanwhile.
  open_watch_.drain();
  if (detail::has_opener(master_->native_handle())) {
    host_open_ = true;
    hung_up_ = false;
  }
}

void PtyPort::Impl::tell_host_changed(bool open) const {
  if (options_.host_changed) options_.host_changed(open);
}

void PtyPort::Impl::start_read() {
  if (reading_ || !master_ || hung_up_ || !held_input_.empty()) return;
  if (!muted_ && !wants_input()) return;
  reading_ = true;
  master_->async_read_some(
      asio::buffer(read_buffer_), [self = shared_from_this(), generation = generation_](
                                      boost::system::error_code ec, std::size_t count) {
        if (generation != self->generation_) return;
        self->reading_ = false;
        if (ec == asio::error::operation_aborted) {  // a departed host's write was cancelled
          self->service();
          return;
        }
        // EIO: no process has the slave open any more (after the bytes a
        // closing host wrote have been read).
        if (ec) {
          self->on_no_opener_left();
          return;
        }
        const auto bytes = std::span<const std::uint8_t>(self->read_buffer_).first(count);
        self->heard_ = true;
        self->trace(TraceDirection::kFromHost, bytes);
        if (!self->muted_) self->held_input_.assign(bytes.begin(), bytes.end());
        self->service();
      });
}

void PtyPort::Impl::start_write() {
  if (writing_ || !master_ || !host_open_ || drop_until_idle_) return;
  if (options_.silenced && options_.silenced()) return;
  // At most what one write(2) to a pty takes, so the copy stays small.
  constexpr std::size_t kMaxWrite = 16 * 1024;
  const auto pending = output().first(std::min(output().size(), kMaxWrite));
  if (pending.empty()) return;
  write_buffer_.assign(pending.begin(), pending.end());
  writing_ = true;
  // One write_some at a time, not a composed async_write: a departed host's
  // output must stop at once, and cancel() cannot stop a composed write
  // between two of its steps.
  master_->async_write_some(
      asio::buffer(write_buffer_),
      [self = shared_from_this(), generation = generation_, epoch = output_epoch_](
          boost::system::error_code ec, std::size_t count) {
        if (generation != self->generation_) return;
        self->writing_ = false;
        if (ec == asio::error::operation_aborted) {  // its host departed
          self->service();
          return;
        }
        if (ec) return;
        self->trace(TraceDirection::kToHost,
                    std::span<const std::uint8_t>(self->write_buffer_).first(count));
        // Consumed only now: bytes stuck in the kernel still count against the
        // engine's output bound.
        self->in_service_ = true;
        if (epoch == self->output_epoch_) self->consume(count);
        self->in_service_ = false;
        self->service();
      });
}

void PtyPort::Impl::arm_timer() {
  const auto deadline = session_ ? session_->next_deadline() : engine_.next_deadline();
  if (!deadline) return;
  if (timer_.expiry() == *deadline) return;  // already waiting for it
  timer_.expires_at(*deadline);
  timer_.async_wait(
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (ec || generation != self->generation_) return;
        self->in_service_ = true;
        if (self->session_) {
          self->session_->poll();
        } else {
          self->engine_.poll();
        }
        self->in_service_ = false;
        self->service();
      });
}

PtyPort::PtyPort(asio::any_io_executor executor, const Registry& registry, PtyPortOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), registry, std::move(options))) {}

PtyPort::~PtyPort() {
  try {
    impl_->close();
  } catch (...) {  // NOLINT(bugprone-empty-catch)
    // Only Asio's timer cancel can throw here, and a destructor must not:
    // the fds are closed by then, so there is nothing left to clean up.
  }
}

tl::expected<void, Error> PtyPort::open() {
  return impl_->open();
}
tl::expected<void, Error> PtyPort::present() {
  return impl_->present();
}

void PtyPort::disconnect() {
  impl_->disconnect();
}
tl::expected<void, Error> PtyPort::reconnect() {
  return impl_->reconnect();
}
bool PtyPort::connected() const noexcept {
  return impl_->connected();
}
std::filesystem::path PtyPort::device_path() const {
  return impl_->device_path();
}
const std::filesystem::path& PtyPort::link_path() const noexcept {
  return impl_->options().link;
}
PortStyle PtyPort::style() const noexcept {
  return impl_->options().style;
}
Engine& PtyPort::engine() noexcept {
  return impl_->engine();
}
void PtyPort::queue_urc(std::string_view line) {
  impl_->queue_urc(line);
}
CmuxSession* PtyPort::mux() noexcept {
  return impl_->mux();
}
asio::any_io_executor PtyPort::executor() const {
  return impl_->executor();
}

}  // namespace vmodem::at
