// State shared by the listener and its connections (private to control/).
#pragma once

#include <memory>
#include <set>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/types.h>

#include <vmodem/simulator/control_server.hpp>

namespace vmodem::sim {

namespace control {
class Session;
}

struct ControlServer::Core {
  Core(boost::asio::any_io_executor ex, ControlTarget& t, ControlServerOptions opts)
      : executor(std::move(ex)),
        target(t),
        options(std::move(opts)),
        acceptor(executor),
        retry(executor) {}

  boost::asio::any_io_executor executor;
  ControlTarget& target;
  ControlServerOptions options;
  boost::asio::local::stream_protocol::acceptor acceptor;
  boost::asio::steady_timer retry;  // after accept failures such as EMFILE
  // Open connections. A connection removes itself when it closes, which
  // breaks the Core <-> Session reference cycle.
  std::set<std::shared_ptr<control::Session>> sessions;
  bool stopped = false;
  // Identity of the socket file we created, so stop() never removes a
  // successor's socket.
  dev_t socket_dev = 0;
  ino_t socket_ino = 0;
};

}  // namespace vmodem::sim
