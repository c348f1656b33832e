// A TCP or UDP server on 127.0.0.1 in a thread of its own, for the socket
// tests: the module's peer on its loopback "network".
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vmodem::sim::testing {

using namespace std::chrono_literals;

// A loopback server in a thread: TCP echoes (or closes at once, or sends a
// greeting and closes) for one connection; UDP echoes every datagram. It
// records what it saw: the bytes, and whether the peer reset the connection.
class LoopbackServer {
 public:
  enum class Kind { tcp_echo, tcp_greet_and_close, udp_echo };

  explicit LoopbackServer(Kind kind, std::string greeting = {})
      : kind_(kind), greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, kind == Kind::udp_echo ? SOCK_DGRAM : SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        (kind != Kind::udp_echo && ::listen(fd_, 4) != 0)) {
      ADD_FAILURE() << "loopback server: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  int port() const { return port_; }
  std::string received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  // True once the connection ended with a reset (ECONNRESET), false while it
  // is open or after an orderly close; waits up to `timeout`.
  bool saw_reset(std::chrono::milliseconds timeout = 3000ms) const {
    std::unique_lock lock(mutex_);
    ended_changed_.wait_for(lock, timeout, [this] { return ended_; });
    return reset_;
  }

 private:
  // Waits for `fd` to be readable for at most 20 ms; false when stopping.
  bool readable(int fd) const {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 20) > 0;
  }
  void serve() {
    if (kind_ == Kind::udp_echo) return serve_udp();
    int conn = -1;
    while (!stop_ && conn < 0) {
      if (readable(fd_)) conn = ::accept(fd_, nullptr, nullptr);
    }
    if (conn < 0) return;
    if (kind_ == Kind::tcp_greet_and_close) {
      (void)::send(conn, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
      ::close(conn);
      return;
    }
    char buf[4096];
    while (!stop_) {
      if (!readable(conn)) continue;
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) {
        std::lock_guard lock(mutex_);
        reset_ = n < 0 && errno == ECONNRESET;
        break;
      }
      {
        std::lock_guard lock(mutex_);
        received_.append(buf, static_cast<std::size_t>(n));
      }
      (void)::send(conn, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    }
    ::close(conn);
    std::lock_guard lock(mutex_);
    ended_ = true;
    ended_changed_.notify_all();
  }
  void serve_udp() {
    char buf[2048];
    while (!stop_) {
      if (!readable(fd_)) continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      {
        std::lock_guard lock(mutex_);
        received_.append(buf, static_cast<std::size_t>(n));
      }
      (void)::sendto(fd_, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
                     len);
    }
  }

  Kind kind_;
  std::string greeting_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;  // guards what follows
  mutable std::condition_variable ended_changed_;
  bool reset_ = false, ended_ = false;
  std::string received_;
};

}  // namespace vmodem::sim::testing
