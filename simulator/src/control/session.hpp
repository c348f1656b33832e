// One control connection: reads request lines, answers them in order,
// forwards events if subscribed, and bounds what it buffers for a slow
// client (see control_server.hpp for the policy).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "control/replies.hpp"
#include "control/server_core.hpp"

namespace vmodem::sim::control {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  Session(std::shared_ptr<ControlServer::Core> core, Socket socket);

  // Sends the greeting and starts reading. On the executor.
  void start();
  // Sends one error line and closes (too many clients).
  void reject(const ControlError& error);
  // Closes at once: unsubscribes, closes the socket, leaves the server.
  void close();
  // Queues an event if this connection subscribed to it.
  void push_event(const nlohmann::json& event);

 private:
  struct Out {
    std::string line;
    bool event;
  };

  void read_more();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  void process_lines();
  void handle_line(std::string_view line);
  void finish_request(JsonResult result, const std::optional<nlohmann::json>& id);
  nlohmann::json run_session_command(std::string_view name, const nlohmann::json& args);
  void queue(std::string line, bool event);
  void write_more();
  void on_write(const boost::system::error_code& ec);

  std::shared_ptr<ControlServer::Core> core_;
  Socket socket_;
  std::array<char, 64 * 1024> read_buffer_{};
  std::string pending_;      // received bytes not yet handled
  std::size_t scanned_ = 0;  // pending_[0, scanned_) holds no newline
  bool skipping_ = false;    // discarding the rest of an overlong line
  bool reading_ = false;
  bool processing_ = false;      // inside process_lines
  bool awaiting_reply_ = false;  // a target request is not answered yet
  bool writing_ = false;
  bool quitting_ = false;  // close once the queue is written
  bool closed_ = false;
  std::deque<Out> out_;
  std::size_t queued_events_ = 0;
  std::size_t queued_replies_ = 0;
  std::string write_buffer_;
  std::optional<std::uint64_t> subscription_;
  std::optional<std::set<std::string, std::less<>>> filter_;  // nullopt: every event
  std::uint64_t dropped_total_ = 0;
  std::uint64_t dropped_unreported_ = 0;
};

}  // namespace vmodem::sim::control
