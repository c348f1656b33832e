// AT+CMUX on a real PTY: the port changes framing after the OK, and goes back
// to AT command state on close-down, when the host leaves, and on a reset.

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <vmodem/at/cmux.hpp>
#include <vmodem/at/pty_port.hpp>

#include "cmux_helpers.hpp"
#include "pty_host.hpp"

namespace vmodem::at::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using cmux::Frame;
using cmux::FrameType;

class CmuxPortTest : public ::testing::Test {
 protected:
  CmuxPortTest() {
    std::string pattern = (fs::temp_directory_path() / "vmodem-cmux-XXXXXX").string();
    state_dir_ = ::mkdtemp(pattern.data());
    install_v250_commands(registry_);
    install_cmux_command(registry_);
    thread_ = std::thread([this] { io_.run(); });
    on_io([this] {
      port_ = std::make_unique<PtyPort>(io_.get_executor(), registry_,
                                        PtyPortOptions{.link = state_dir_ / "ttyUSB2"});
      ASSERT_TRUE(port_->open().has_value());
    });
  }

  ~CmuxPortTest() override {
    on_io([this] { port_.reset(); });
    work_.reset();
    thread_.join();
    std::error_code ignored;
    fs::remove_all(state_dir_, ignored);
  }

  template <typename Job>
  std::invoke_result_t<Job> on_io(Job job) {
    std::packaged_task<decltype(job())()> task(std::move(job));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  bool muxing() {
    return on_io([this] { return port_->mux() != nullptr; });
  }

  // Reads frames until `done` holds for all read so far (or 5 s pass).
  template <typename Done>
  std::vector<Frame> frames_until(HostSerial& host, Done done) {
    std::vector<Frame> frames;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done(frames) && std::chrono::steady_clock::now() < deadline) {
      const std::string bytes = host.read_for(std::chrono::milliseconds(50));
      for (auto& frame : reader_.read(bytes))
        frames.push_back(std::move(frame));
    }
    return frames;
  }

  std::vector<Frame> frames_until_payload(HostSerial& host, std::uint8_t dlci,
                                          const std::string& text) {
    return frames_until(host, [&](const std::vector<Frame>& frames) {
      return payload(frames, dlci).find(text) != std::string::npos;
    });
  }

  // AT+CMUX, then DLC 0 and 1 opened (their answers read).
  void enter_mux(HostSerial& host) {
    ASSERT_TRUE(host.write("AT+CMUX=0,0,5,64\r"));
    ASSERT_EQ(host.read_until("\r\nOK\r\n"), "AT+CMUX=0,0,5,64\r\r\nOK\r\n");
    ASSERT_TRUE(host.write(sabm(0) + sabm(1)));
    const auto frames = frames_until(host, [](const std::vector<Frame>& got) {
      return got.size() >= 3;  // UA, UA, MSC
    });
    ASSERT_GE(frames.size(), 3U);
    EXPECT_EQ(frames[0].type, FrameType::kUa);
    EXPECT_EQ(frames[1].type, FrameType::kUa);
    EXPECT_EQ(frames[1].dlci, 1);
    EXPECT_TRUE(muxing());
  }

  fs::path link() const { return state_dir_ / "ttyUSB2"; }

  fs::path state_dir_;
  Registry registry_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<PtyPort> port_;
  std::thread thread_;
  FrameReader reader_;
};

TEST_F(CmuxPortTest, AtRunsOnADlcAndCloseDownReturnsToCommandState) {
  HostSerial host(link().string());
  ASSERT_TRUE(host.is_open());
  enter_mux(host);
  ASSERT_TRUE(host.write(uih(1, "ATE0\r")));
  EXPECT_EQ(payload(frames_until_payload(host, 1, "OK\r\n"), 1), "ATE0\r\r\nOK\r\n");

  // CLD, and an AT command right behind it in the same write: the latter is
  // for the port's command state, echo on as before the multiplexer.
  ASSERT_TRUE(host.write(control(cmux::msg::kCld, "") + "AT\r"));
  const std::string rest = host.read_until("AT\r\r\nOK\r\n");
  const auto frames = reader_.read(rest.substr(0, rest.find("AT\r")));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].info.at(0), cmux::msg::kCld);
  EXPECT_FALSE(muxing());
}

TEST_F(CmuxPortTest, UrcsOfThePortGoToDlc1) {
  HostSerial host(link().string());
  enter_mux(host);
  on_io([this] { port_->queue_urc("+CREG: 1"); });
  EXPECT_EQ(payload(frames_until_payload(host, 1, "+CREG: 1"), 1), "\r\n+CREG: 1\r\n");
}

TEST_F(CmuxPortTest, TheHostClosingThePortEndsTheMultiplexer) {
  {
    HostSerial host(link().string());
    enter_mux(host);
  }
  // The port hears of the close (bounded wait), as a USB port going away.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (muxing() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_FALSE(muxing());
  HostSerial again(link().string());
  ASSERT_TRUE(again.write("AT\r"));
  EXPECT_EQ(again.read_until("\r\nOK\r\n"), "AT\r\r\nOK\r\n");
}

TEST_F(CmuxPortTest, AResetEndsTheMultiplexer) {
  HostSerial host(link().string());
  enter_mux(host);
  on_io([this] {
    port_->disconnect();
    ASSERT_TRUE(port_->reconnect().has_value());
  });
  EXPECT_FALSE(muxing());
  host.close();
  HostSerial again(link().string());
  ASSERT_TRUE(again.write("AT\r"));
  EXPECT_EQ(again.read_until("\r\nOK\r\n"), "AT\r\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
