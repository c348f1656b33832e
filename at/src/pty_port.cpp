// The Asio adapter: PTY master bytes <-> Engine, one read, one write and one
// timer in flight at most.

#include <algorithm>
#include <array>
#include <deque>
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
        timer_(executor_),
        settle_timer_(executor_) {}

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
  void send_line(std::string_view line);
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
    if (options_.output_only) return lines_out_;
    return session_ ? session_->pending_output() : engine_.pending_output();
  }
  void consume(std::size_t count) {
    if (options_.output_only) {
      lines_out_.erase(lines_out_.begin(), lines_out_.begin() + static_cast<std::ptrdiff_t>(count));
    } else if (session_) {
      session_->consume_output(count);
    } else {
      engine_.consume_output(count);
    }
  }
  // An output-only port reads only to see EIO and to drop what hosts write.
  bool wants_input() const noexcept {
    if (options_.output_only) return true;
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
  void feed_departed_host();
  void drop_output();
  tl::expected<void, Error> start_watch();
  void on_watch_events(const detail::OpenEvents& events);
  void walk_watch_events();
  void count_again();
  void on_host_opened();
  void on_host_closed();
  void finish_departure(bool replaced);
  void discard_unread();
  void stop_writing();
  void take_watch_events();
  void settle_count();
  void on_hung_up();
  void tell_host_changed(bool open) const;
  void start_read();
  void take_input(std::span<const std::uint8_t> bytes);
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
  bool timer_waiting_ = false;       // a wait on timer_ is pending
  asio::steady_timer settle_timer_;  // settle_count()'s second look
  std::optional<asio::posix::stream_descriptor> master_;
  detail::OpenWatch open_watch_;  // the slave opened/closed
  std::filesystem::path device_path_;

  std::array<std::uint8_t, 4096> read_buffer_{};
  std::vector<std::uint8_t> held_input_;  // read but not yet taken by the engine
  std::size_t held_offset_ = 0;
  std::vector<std::uint8_t> write_buffer_;  // a copy: the engine's view moves
  std::vector<std::uint8_t> lines_out_;     // an output-only port's send_line()s

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
  // Open file descriptions of the slave, counted from the watch's events
  // (the port's own open excluded): a departure is this reaching zero, even
  // when the next host has opened by the time the events are read.
  int openers_ = 0;
  // The watch's events not yet acted on, oldest first (true: an open).
  std::deque<bool> watch_events_;
  bool walking_ = false;
  // The last opener left; what it wrote before closing is still being fed
  // to the engine. Then the engine is told (a DTR drop) and the answers go.
  bool departing_ = false;
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
  openers_ = 0;
  watch_events_.clear();
  departing_ = false;
  if (options_.linked) options_.linked(options_.link);
  return {};
}

void PtyPort::Impl::close_pty() {
  ++generation_;
  reading_ = false;
  writing_ = false;
  host_open_ = false;
  hung_up_ = false;
  openers_ = 0;
  watch_events_.clear();
  departing_ = false;
  drop_until_idle_ = false;
  timer_.cancel();
  timer_waiting_ = false;  // the cancelled wait's handler sees a new generation
  settle_timer_.cancel();
  boost::system::error_code ignored;
  if (master_) {
    master_->close(ignored);
    master_.reset();
  }
  open_watch_.reset();
  device_path_.clear();
  held_input_.clear();
  held_offset_ = 0;
  lines_out_.clear();
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
    if (departing_) feed_departed_host();
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

// The departed host's last bytes run, their answers dropped as they come
// (a full output buffer would stop its input); once all are in (EIO) the
// departure is done. A command still running finishes it when it wakes the
// port.
void PtyPort::Impl::feed_departed_host() {
  for (;;) {
    drop_output();
    const std::size_t left = held_input_.size() - held_offset_;
    feed_held_input();
    if (held_input_.empty() || held_input_.size() - held_offset_ == left) break;
  }
  drop_output();
  if (held_input_.empty() && hung_up_) finish_departure(/*replaced=*/false);
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

void PtyPort::Impl::send_line(std::string_view line) {
  constexpr std::size_t kMaxWaiting = 64 * 1024;
  if (!options_.output_only || !connected_ || muted_ || !host_open_ || departing_) return;
  if (lines_out_.size() + line.size() + 2 > kMaxWaiting) return;
  lines_out_.insert(lines_out_.end(), line.begin(), line.end());
  lines_out_.push_back('\r');
  lines_out_.push_back('\n');
  request_service();
}

void PtyPort::Impl::drop_output() {
  const std::size_t stale = output().size();
  if (stale == 0) return;
  consume(stale);
  // A write in flight wrote from what is gone: it must not take its count
  // off the output that comes next.
  if (writing_) ++output_epoch_;
}

// The watch lives as long as the PTY: it is how a host's arrival is seen
// (nothing is read then), and a host's departure while no read runs (a
// command executing). Its events come for this PTY's generation only.
tl::expected<void, Error> PtyPort::Impl::start_watch() {
  std::weak_ptr<Impl> weak = shared_from_this();
  auto watch = detail::OpenWatchService::of(executor_).watch(
      executor_, device_path_.string(),
      [weak, generation = generation_](const detail::OpenEvents& events) {
        const auto self = weak.lock();
        if (!self || generation != self->generation_ || !self->master_) return;
        self->on_watch_events(events);
      });
  if (!watch) return tl::unexpected(watch.error());
  open_watch_ = std::move(*watch);
  return {};
}

void PtyPort::Impl::on_watch_events(const detail::OpenEvents& events) {
  if (events.lost) {
    count_again();
  } else {
    watch_events_.insert(watch_events_.end(), events.opened.begin(), events.opened.end());
  }
  walk_watch_events();
  settle_count();
  host_open_ = detail::has_opener(master_->native_handle());
  // Read again whatever happened: an arriving host's commands, or EIO.
  hung_up_ = false;
  service();
}

// inotify folds an event into an identical one just before it, unread: two
// hosts opening at once (`cat PORT &` and `echo AT > PORT`), or a host and
// the port's own look, count as one open. The device tells the truth at
// rest: nobody counted but someone there is one opener — an arrival the
// port's own look hid, or no departure after all. The latter is only
// believed a moment later: a close event comes before the kernel has
// finished closing, so the departing host itself may still look open.
void PtyPort::Impl::settle_count() {
  if (openers_ > 0 || !detail::has_opener(master_->native_handle())) return;
  if (!departing_) {
    openers_ = 1;
    hung_up_ = false;  // its commands are to be read
    host_open_ = true;
    tell_host_changed(true);
    return;
  }
  settle_timer_.expires_after(std::chrono::milliseconds(50));
  settle_timer_.async_wait(
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (ec || generation != self->generation_ || !self->master_) return;
        self->take_watch_events();
        self->walk_watch_events();
        if (self->departing_ && self->openers_ == 0 &&
            detail::has_opener(self->master_->native_handle())) {
          self->openers_ = 1;  // another opener stayed: no departure
          self->departing_ = false;
        }
        self->service();
      });
}

// EIO: nobody has the slave open. Closes folded into one leave the count
// above zero with nobody there: that is a departure, its bytes all read.
void PtyPort::Impl::on_hung_up() {
  hung_up_ = true;
  if (departing_ || openers_ == 0) return;
  take_watch_events();
  walk_watch_events();
  if (departing_ || openers_ == 0) return;
  openers_ = 1;
  on_host_closed();
  hung_up_ = true;  // this EIO came after everything the host wrote
}

// One event at a time, in order; a read or a timer that finds events not
// yet delivered adds them to the queue first (take_watch_events()).
void PtyPort::Impl::walk_watch_events() {
  if (walking_) return;
  walking_ = true;
  while (!watch_events_.empty()) {
    const bool opened = watch_events_.front();
    watch_events_.pop_front();
    if (opened) {
      on_host_opened();
    } else {
      on_host_closed();
    }
  }
  walking_ = false;
}

// The kernel lost events: the device itself says whether anyone is there.
void PtyPort::Impl::count_again() {
  watch_events_.clear();
  const bool open_now = detail::has_opener(master_->native_handle());
  if (open_now == (openers_ > 0)) return;
  if (open_now) {
    on_host_opened();
  } else {
    openers_ = 1;
    on_host_closed();
  }
}

void PtyPort::Impl::on_host_opened() {
  hung_up_ = false;            // its commands are to be read
  host_open_ = true;           // and its answers written
  if (openers_++ > 0) return;  // another opener of a port already open
  if (departing_) finish_departure(/*replaced=*/true);
  tell_host_changed(true);
}

void PtyPort::Impl::on_host_closed() {
  if (openers_ == 0) return;   // counted again after lost events
  if (--openers_ > 0) return;  // `cat PORT &` stays while `echo AT > PORT` leaves
  // What the host wrote before it closed is read on, up to EIO, and fed
  // before the engine hears of the departure: a host's last upload bytes
  // are data, not commands. (The close event can come before the kernel has
  // finished closing: EIO may still be on its way.) The next host's arrival
  // ends the wait.
  departing_ = true;
  hung_up_ = false;
  stop_writing();  // nothing more for the departed host
}

// A write in flight (a departed host's answer) is stopped. Cancelled on the
// executor's thread, it writes nothing more from here on; what it wrote
// already is taken off the output as usual.
void PtyPort::Impl::stop_writing() {
  if (!writing_) return;
  boost::system::error_code ignored;
  master_->cancel(ignored);
}

// What was meant for a host that closed the port goes with it, as a USB
// port's buffers do: queued output, the answer of a command still running,
// and bytes the kernel holds for the slave. URCs not yet sent stay queued.
// `replaced`: the next host opened the port before the port could look (its
// open is among the same events). Then what the port has read and answered
// since may be the new host's — its first command and that answer — so
// nothing is dropped: the departure only ends the multiplexer and drops DTR.
void PtyPort::Impl::finish_departure(bool replaced) {
  departing_ = false;
  // A USB port that goes away takes the multiplexer along: the next opener
  // finds the port in AT command state.
  end_mux_now();
  // A closed port is a DTR drop: under AT&D1 an online port goes back to
  // command state and its link is suspended, not lost; an upload ends.
  engine_.host_gone();
  if (replaced) {
    tell_host_changed(false);
    return;
  }
  if (!muted_) {
    drop_output();
    drop_until_idle_ = engine_.mode() != EngineMode::kCommand;
  }
  stop_writing();
  discard_unread();
  tell_host_changed(false);  // told once nothing of the departed host's is left
  settle_count();
}

void PtyPort::Impl::discard_unread() {
  // Failing here (the slave cannot be opened) leaves the stale bytes for the
  // next opener; nothing else is lost, and there is no one to tell.
  (void)detail::discard_unread(master_->native_handle(), device_path_.string());
  // That open and close of the slave were the port's own; a host's open
  // among them (folded into the port's, maybe) is found by settle_count().
  (void)open_watch_.drain();
  host_open_ = detail::has_opener(master_->native_handle());
}

// The watch's events not delivered yet, taken now and queued for the walk.
void PtyPort::Impl::take_watch_events() {
  auto events = open_watch_.drain();
  if (events.lost) {
    count_again();
  } else {
    watch_events_.insert(watch_events_.end(), events.opened.begin(), events.opened.end());
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
        // Cancelled: a departed host's write was stopped (reading goes on).
        // EIO: no process has the slave open any more, after the bytes a
        // closing host wrote have been read; reading waits for the watch's
        // next event.
        if (self->departing_) {
          // Whose bytes these are: a next host's, if its open is among the
          // events not yet delivered (it opened before it wrote); else the
          // departed host's last.
          self->take_watch_events();
          self->walk_watch_events();
        }
        if (ec && ec != asio::error::operation_aborted) self->on_hung_up();
        if (!ec) self->take_input(std::span<const std::uint8_t>(self->read_buffer_).first(count));
        self->service();
      });
}

void PtyPort::Impl::take_input(std::span<const std::uint8_t> bytes) {
  trace(TraceDirection::kFromHost, bytes);
  if (!muted_ && !options_.output_only) {
    held_input_.insert(held_input_.end(), bytes.begin(), bytes.end());
  }
}

void PtyPort::Impl::start_write() {
  if (writing_ || !master_ || !host_open_ || departing_ || drop_until_idle_) return;
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
  // A wait that ends no later than the deadline stays: when it ends, poll()
  // checks the engine's own clock and this re-arms for the rest. An upload
  // moves its deadline with every read; re-arming each time would cost a
  // cancelled wait and a new one per 4 KiB.
  if (timer_waiting_ && timer_.expiry() <= *deadline) return;
  timer_.expires_at(*deadline);
  timer_waiting_ = true;
  timer_.async_wait(
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (generation != self->generation_) return;
        if (ec == asio::error::operation_aborted) return;  // re-armed: another wait is pending
        self->timer_waiting_ = false;
        if (ec) return;
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
void PtyPort::send_line(std::string_view line) {
  impl_->send_line(line);
}
asio::any_io_executor PtyPort::executor() const {
  return impl_->executor();
}

}  // namespace vmodem::at
