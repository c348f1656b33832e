// A ControlServer on its own io_context thread with a FakeTarget, and a
// blocking line client with timeouts to talk to it over the real socket.
#pragma once

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmodem/simulator/control_server.hpp>

#include "fake_target.hpp"
#include "temp_dir.hpp"

namespace vmodem::testing {

class LineClient {
 public:
  using json = nlohmann::json;
  explicit LineClient(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~LineClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }
  // The next line (without "\n"), or nullopt on timeout or EOF.
  std::optional<std::string> line(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return std::nullopt;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[65536];
      const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (got <= 0) {
        eof_ = true;
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }
  json message(int timeout_ms = 5000) {
    auto text = line(timeout_ms);
    if (!text) return json();
    return json::parse(*text, nullptr, false);
  }
  json greeting() { return message(); }
  // Sends a request and returns the next non-event message.
  json request(const json& req) {
    send_raw(req.dump() + "\n");
    return reply();
  }
  json reply() {
    for (;;) {
      json m = message();
      if (!m.is_object() || !m.contains("event")) return m;
    }
  }
  json execute(const std::string& command, json arguments = json::object()) {
    return request({{"execute", command}, {"arguments", std::move(arguments)}});
  }
  bool eof() const { return eof_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

class ServerTest : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  template <typename F>
  auto run_on_executor(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  void SetUp() override { start_server(); }
  void TearDown() override { stop_server(); }

  void start_server(sim::ControlServerOptions options = {}) {
    if (options.socket_path.empty()) options.socket_path = dir_ / "control.sock";
    if (options.version.empty()) options.version = "0.1.0";
    if (options.model.empty()) options.model = "BG95-M3";
    auto server = sim::ControlServer::start(io_.get_executor(), target_, options);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      target_.executor_thread = std::this_thread::get_id();
      io_.run();
    });
  }

  void stop_server() {
    if (!server_) return;
    run_on_executor([this] { server_.reset(); });
    work_.reset();
    io_.stop();
    thread_.join();
    EXPECT_EQ(target_.wrong_thread_calls.load(), 0) << "ControlTarget called off the executor";
  }

  std::size_t client_count() {
    return run_on_executor([this] { return server_->client_count(); });
  }

  std::filesystem::path socket() const { return dir_ / "control.sock"; }

  // A connected client that has read its greeting.
  std::unique_ptr<LineClient> client() {
    auto c = std::make_unique<LineClient>(socket());
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->greeting().contains("vmodem"));
    return c;
  }

  // Polls `condition` for up to 5 s.
  template <typename F>
  static bool eventually(F condition) {
    for (int i = 0; i < 500; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  }

  TempDir dir_;
  FakeTarget target_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::unique_ptr<sim::ControlServer> server_;
  std::thread thread_;
};

}  // namespace vmodem::testing
