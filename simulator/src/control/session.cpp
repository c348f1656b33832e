#include "control/session.hpp"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "control/protocol.hpp"
#include "control/requests.hpp"

namespace vmodem::sim::control {

namespace {

using nlohmann::json;

// Several queued lines go out in one write, up to about this much.
constexpr std::size_t kWriteBatchBytes = 256 * 1024;

}  // namespace

Session::Session(std::shared_ptr<ControlServer::Core> core, Socket socket)
    : core_(std::move(core)), socket_(std::move(socket)) {}

void Session::start() {
  queue(greeting_line(core_->options.version, core_->options.model), false);
  read_more();
}

void Session::reject(const ControlError& error) {
  queue(error_line(error, std::nullopt), false);
  quitting_ = true;
  write_more();
}

void Session::close() {
  if (closed_) return;
  auto self = shared_from_this();  // erase() below may drop the last owner
  closed_ = true;
  if (subscription_) core_->target.unsubscribe(*subscription_);
  subscription_.reset();
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  out_.clear();
  core_->sessions.erase(self);
}

void Session::read_more() {
  if (reading_ || closed_ || quitting_) return;
  reading_ = true;
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t bytes) {
        self->on_read(ec, bytes);
      });
}

void Session::on_read(const boost::system::error_code& ec, std::size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (ec) {  // EOF or a reset: the client is gone
    close();
    return;
  }
  std::string_view data(read_buffer_.data(), bytes);
  if (skipping_) {
    const auto newline = data.find('\n');
    if (newline == std::string_view::npos) {
      read_more();
      return;
    }
    skipping_ = false;
    data.remove_prefix(newline + 1);
  }
  pending_.append(data);
  process_lines();
}

// Handles complete lines while the client keeps up with its replies, then
// reads more. Never reads while a complete line is still waiting, so a
// client that pipelines requests without reading replies is held back by
// the socket, not by our memory.
void Session::process_lines() {
  processing_ = true;
  std::size_t consumed = 0;
  bool line_waiting = false;
  while (!closed_ && !quitting_) {
    if (awaiting_reply_) {
      line_waiting = true;
      break;
    }
    const auto newline = pending_.find('\n', std::max(scanned_, consumed));
    if (newline == std::string::npos) {
      scanned_ = pending_.size();
      break;
    }
    if (queued_replies_ >= core_->options.max_queued_replies) {
      scanned_ = newline;
      line_waiting = true;
      break;
    }
    const std::string_view line(pending_.data() + consumed, newline - consumed);
    consumed = newline + 1;
    scanned_ = consumed;
    if (line.size() > core_->options.max_line_bytes) {
      queue(error_line({std::string(kGenericError),
                        "line longer than " + std::to_string(core_->options.max_line_bytes) +
                            " bytes; ignored"},
                       std::nullopt),
            false);
      continue;
    }
    handle_line(line);
  }
  processing_ = false;
  if (closed_) return;
  pending_.erase(0, consumed);
  scanned_ -= std::min(scanned_, consumed);
  if (!line_waiting && pending_.size() > core_->options.max_line_bytes) {
    // No newline within the limit: answer once, then drop input up to the
    // next newline so the client can carry on.
    queue(error_line({std::string(kGenericError),
                      "line longer than " + std::to_string(core_->options.max_line_bytes) +
                          " bytes; discarded up to the next newline"},
                     std::nullopt),
          false);
    pending_.clear();
    scanned_ = 0;
    skipping_ = true;
  }
  if (!line_waiting) read_more();
}

void Session::handle_line(std::string_view line) {
  ParsedLine parsed = parse_request(line);
  if (parsed.empty) return;
  if (!parsed.request) {
    queue(error_line(parsed.request.error(), parsed.id), false);
    return;
  }
  const auto name = parsed.request->command->name;
  const auto& args = parsed.request->arguments;
  if (!is_target_command(name)) {
    queue(return_line(run_session_command(name, args), parsed.id), false);
    if (name == "quit") quitting_ = true;
    return;
  }
  // One request at a time per connection: lines that follow wait until this
  // one is answered (replies stay in order), while other connections, the
  // ports and events carry on.
  awaiting_reply_ = true;
  auto answered = std::make_shared<bool>(false);
  JsonReply reply = [weak = weak_from_this(), id = parsed.id, answered](JsonResult result) {
    if (std::exchange(*answered, true)) return;
    if (auto self = weak.lock()) self->finish_request(std::move(result), id);
  };
  try {
    call_target(core_->target, name, args, reply);
  } catch (const std::exception& e) {
    // The module should never throw at us; if it does, this request fails
    // and the server keeps serving.
    reply(tl::unexpected(
        ControlError{std::string(kGenericError), std::string("internal error: ") + e.what()}));
  }
}

void Session::finish_request(JsonResult result, const std::optional<json>& id) {
  awaiting_reply_ = false;
  if (closed_) return;
  if (result) {
    queue(return_line(*result, id), false);
  } else {
    ControlError error = std::move(result.error());
    if (error.error_class.empty()) error.error_class = std::string(kGenericError);
    queue(error_line(error, id), false);
  }
  // Answered later than handle_line: go on with the lines that waited.
  if (!processing_ && !reading_ && !quitting_) process_lines();
}

json Session::run_session_command(std::string_view name, const json& args) {
  if (name == "query-commands") return describe_commands();
  if (name == "subscribe") {
    if (args.contains("events")) {
      filter_.emplace();
      for (const auto& event : args["events"])
        filter_->insert(event.get<std::string>());
    } else {
      filter_.reset();
    }
    if (!subscription_) {
      subscription_ = core_->target.subscribe(
          [weak = weak_from_this(), executor = core_->executor](const json& event) {
            // The module may emit from any thread; sessions live on the executor.
            boost::asio::post(executor, [weak, event] {
              if (auto self = weak.lock()) self->push_event(event);
            });
          });
    }
    return {{"events", filter_ ? json(*filter_) : json("all")}};
  }
  if (name == "unsubscribe") {
    if (subscription_) core_->target.unsubscribe(*subscription_);
    subscription_.reset();
    return {{"dropped", dropped_total_}};
  }
  return json::object();  // quit
}

void Session::push_event(const json& event) {
  if (closed_ || !subscription_) return;
  if (filter_) {
    const auto name = event.is_object() ? event.find("event") : event.end();
    if (name == event.end() || !name->is_string() ||
        !filter_->contains(name->get_ref<const std::string&>())) {
      return;
    }
  }
  queue(event_line(event), true);
}

void Session::queue(std::string line, bool event) {
  if (closed_) return;
  if (event && queued_events_ >= core_->options.max_queued_events) {
    // Drop the oldest waiting event: a stalled reader sees the latest state.
    const auto oldest =
        std::find_if(out_.begin(), out_.end(), [](const Out& out) { return out.event; });
    if (oldest != out_.end()) {
      out_.erase(oldest);
      --queued_events_;
      ++dropped_total_;
      ++dropped_unreported_;
    }
    if (core_->options.max_queued_events == 0) return;
  }
  out_.push_back({std::move(line), event});
  ++(event ? queued_events_ : queued_replies_);
  write_more();
}

void Session::write_more() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (quitting_) close();
    return;
  }
  write_buffer_.clear();
  while (!out_.empty() && write_buffer_.size() < kWriteBatchBytes) {
    Out& out = out_.front();
    if (out.event && dropped_unreported_ > 0) {
      // The dropped events were older than this one: report the gap here.
      write_buffer_ +=
          event_line({{"event", "EVENTS_DROPPED"},
                      {"data", {{"count", dropped_unreported_}, {"total", dropped_total_}}}});
      dropped_unreported_ = 0;
    }
    write_buffer_ += out.line;
    --(out.event ? queued_events_ : queued_replies_);
    out_.pop_front();
  }
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(write_buffer_),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t) { self->on_write(ec); });
}

void Session::on_write(const boost::system::error_code& ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    close();
    return;
  }
  if (!reading_ && !quitting_) process_lines();  // resume if replies held reading back
  write_more();
}

}  // namespace vmodem::sim::control
