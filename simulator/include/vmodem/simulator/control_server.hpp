// The control socket: JSON lines on a Unix stream socket, QMP-style, between
// any number of clients and one ControlTarget (the module).
//
// Protocol (control/protocol.hpp has the wire format, control/schema.cpp the
// command table; `query-commands` returns that table):
//   * on connect the server sends {"vmodem":{"version","model"},"capabilities":[]};
//     commands are accepted at once (no capabilities negotiation).
//   * each request line gets exactly one reply line, in order.
//   * events go only to connections that sent "subscribe" (optionally with a
//     name filter) until "unsubscribe" or disconnect.
//   * malformed JSON, a non-object, a bad envelope: GenericError; unknown
//     command: CommandNotFound; bad arguments: InvalidParameter naming the
//     argument. The connection stays usable after every error.
//   * a line longer than max_line_bytes: one GenericError, then the server
//     discards input up to the next newline; the connection stays usable.
//   * a client that does not read: at most max_queued_events events wait for
//     it; the oldest is dropped for each new one, counted, and reported by an
//     {"event":"EVENTS_DROPPED","data":{"count","total"}} in the gap. Replies
//     are never dropped: past max_queued_replies unread replies the server
//     stops reading that client's requests until it reads.
//   * more than max_clients connections: the newcomer gets one GenericError
//     line and is closed.
//
// Threading: every handler, and every ControlTarget call, runs on the
// executor given to start(). That executor must not run handlers
// concurrently (a single-threaded io_context, or a strand) - the module's own
// executor. Events may be emitted by the target from any thread: the server
// posts them onto the executor.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <tl/expected.hpp>

#include <vmodem/simulator/control_target.hpp>

namespace vmodem::sim {

struct ControlServerOptions {
  std::filesystem::path socket_path{};  // e.g. <state dir>/control.sock (max 107 bytes)
  std::string version{};                // greeting "vmodem.version"
  std::string model{};                  // greeting "vmodem.model"
  std::size_t max_line_bytes = std::size_t{1} << 20;
  std::size_t max_queued_events = 1024;  // per client
  std::size_t max_queued_replies = 64;   // per client, before reading pauses
  std::size_t max_clients = 32;
};

class ControlServer {
 public:
  // Creates the socket file (mode 0600; a stale socket from an earlier run is
  // replaced, a live one or a non-socket file at the path is an error) and
  // starts accepting on `executor`. `target` must outlive the server. Call on
  // the executor's thread, or before the executor runs.
  static tl::expected<std::unique_ptr<ControlServer>, std::string> start(
      boost::asio::any_io_executor executor, ControlTarget& target, ControlServerOptions options);

  // stop(): closes the listener and every connection, unsubscribes them from
  // the target and removes the socket file (if it is still ours).
  // Idempotent. Same thread rule as start(); the destructor calls it.
  ~ControlServer();
  void stop();

  const std::filesystem::path& socket_path() const;
  std::size_t client_count() const;  // on the executor

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  struct Core;  // shared with the connections; defined in src/control/

 private:
  explicit ControlServer(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace vmodem::sim
