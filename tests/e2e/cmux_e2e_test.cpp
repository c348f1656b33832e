// CMUX with a real 27.010 client: Debian's gsm0710muxd, unmodified, opens
// the AT port, sends its start-up commands and AT+CMUX, and hands out one
// PTY per DLC over D-Bus (a private system bus here). AT runs on two
// channels at once; muxd's exit closes the multiplexer down.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "e2e_support.hpp"
#include "temp_dir.hpp"

namespace vmodem::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMuxd = "/usr/sbin/gsm0710muxd";
constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";
constexpr const char* kDbusSend = "/usr/bin/dbus-send";

// Runs a shell command line and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return out;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr)
    out += buffer.data();
  return out;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

class GsmMuxd : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {kMuxd, kDbusDaemon, kDbusSend}) {
      if (!fs::exists(tool)) GTEST_SKIP() << tool << " is not installed";
    }
    {
      Host host(daemon_.port("ttyUSB2"));
      ASSERT_TRUE(host.is_open());
      host.read_until_booted();
    }
    // A private "system" bus that allows everything: muxd owns
    // org.pyneo.mux on it.
    bus_ = dir_.path() / "bus";
    const fs::path config = dir_.path() / "bus.conf";
    std::ofstream(config)
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
           "Configuration 1.0//EN\" "
           "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>system</type><listen>unix:path="
        << bus_.string()
        << "</listen><auth>EXTERNAL</auth><policy context=\"default\">"
           "<allow user=\"*\"/><allow own=\"*\"/><allow send_type=\"method_call\"/>"
           "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/>"
           "</policy></busconfig>\n";
    dbus_ = spawn_logged({kDbusDaemon, "--config-file=" + config.string(), "--nofork"},
                         dir_.path() / "dbus.out");
    ASSERT_GT(dbus_, 0);
    ASSERT_TRUE(wait_for([&] { return fs::exists(bus_); })) << "the bus did not come up";
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", ("unix:path=" + bus_.string()).c_str(), 1);
    muxd_log_ = dir_.path() / "muxd.log";
    muxd_ = spawn_logged({kMuxd, "-s", daemon_.port("ttyUSB2").string(), "-m", "basic", "-f", "64",
                          "-v", "-l", muxd_log_.string()},
                         dir_.path() / "muxd.out");
    ASSERT_GT(muxd_, 0);
    // Its D-Bus name is taken once it serves: SetPower then starts the mux.
    ASSERT_TRUE(wait_for([&] {
      return call("org.pyneo.Powered.SetPower string:t boolean:true").find("method return") !=
             std::string::npos;
    })) << muxd_log();
  }

  void TearDown() override {
    stop(muxd_);
    stop(dbus_);
  }

  template <typename Condition>
  static bool wait_for(Condition condition, std::chrono::milliseconds timeout = 15000ms) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(50ms);  // polling a process we do not control
    }
    return true;
  }

  std::string call(const std::string& method) const {
    return run(std::string(kDbusSend) +
               " --system --print-reply --type=method_call --dest=org.pyneo.mux /org/pyneo/Muxer " +
               method + " 2>&1");
  }

  // A new DLC's PTY (muxd answers "file://" until it multiplexes).
  fs::path channel() {
    fs::path device;
    wait_for([&] {
      static const std::regex kPath("string \"file://(/dev/pts/[0-9]+)\"");
      std::smatch match;
      const std::string reply = call("org.pyneo.Powered.GetDevice string:t");
      if (!std::regex_search(reply, match, kPath)) return false;
      device = match[1].str();
      return true;
    });
    return device;
  }

  std::string muxd_log() const {
    std::ifstream in(muxd_log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  Daemon daemon_;
  vmodem::testing::TempDir dir_;
  fs::path bus_;
  fs::path muxd_log_;
  pid_t dbus_ = -1;
  pid_t muxd_ = -1;
};

// One test, not two: muxd waits some 15 s of its own before it speaks.
TEST_F(GsmMuxd, RunsAtOnTwoChannelsAtOnceAndItsExitEndsTheMultiplexer) {
  {
    const fs::path first = channel();
    ASSERT_FALSE(first.empty()) << muxd_log();
    Host one(first);
    ASSERT_TRUE(one.is_open());
    EXPECT_EQ(one.command("AT"), "AT\r\r\nOK\r\n");
    EXPECT_NE(one.command("ATI").find("BG95"), std::string::npos);
    EXPECT_TRUE(std::regex_match(one.command("AT+CSQ"),
                                 std::regex("AT\\+CSQ\r\r\n\\+CSQ: [0-9]+,[0-9]+\r\n\r\nOK\r\n")));

    const fs::path second = channel();
    ASSERT_FALSE(second.empty()) << muxd_log();
    ASSERT_NE(second, first);
    Host two(second);
    ASSERT_TRUE(two.is_open());
    // Its own echo setting: ATE0 on the second channel leaves the first's on.
    EXPECT_EQ(two.command("ATE0"), "ATE0\r\r\nOK\r\n");
    // Both at once: written before either is read.
    one.write("AT+CSQ\r");
    two.write("AT+CSQ\r");
    EXPECT_NE(two.read_until("OK\r\n").find("\r\n+CSQ: "), std::string::npos);
    EXPECT_EQ(two.command("AT"), "\r\nOK\r\n");
    EXPECT_EQ(one.read_until("OK\r\n").rfind("AT+CSQ\r\r\n+CSQ: ", 0), 0U);
    EXPECT_EQ(one.command("AT"), "AT\r\r\nOK\r\n");
    // What muxd saw: the module's UA for DLC 0 and its modem status.
    const std::string log = muxd_log();
    EXPECT_NE(log.find("Control channel opened"), std::string::npos);
    EXPECT_NE(log.find("Frames allowed"), std::string::npos);
  }
  stop(muxd_);  // SIGTERM: muxd closes down (CLD) and closes the port
  muxd_ = -1;
  // Opened at once: muxd's close and this open may reach the port in one
  // look, and are still a departure (the multiplexer ends) and an arrival.
  Host host(daemon_.port("ttyUSB2"));
  std::string answer;
  // Bounded: the port hears of muxd's close within milliseconds.
  wait_for(
      [&] {
        answer = host.command("AT", 500ms);
        return answer.find("OK\r\n") != std::string::npos;
      },
      5000ms);
  EXPECT_NE(answer.find("OK\r\n"), std::string::npos) << answer;
}

}  // namespace
}  // namespace vmodem::e2e
