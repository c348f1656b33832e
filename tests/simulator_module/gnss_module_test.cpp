// The GNSS receiver in a whole module: a session fixes after the profile's
// time to first fix (fast mode), at the position `ctl gnss` sets; a hidden
// sky loses the fix; a reset ends the session but not the world.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class ModuleGnss : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.ok());
    harness_.power_on();
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
  }
  // See ModuleTerminal.
  std::string at(const std::string& line) { return terminal_.at(line); }
  Controlled<GnssReport> gnss(GnssRequest request) {
    return harness_.on_io([&] { return harness_.module().gnss(request); });
  }
  // Asks AT+QGPSLOC=2 as a host polls it, until a fix or 5 s.
  std::string locate() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string answer = at("AT+QGPSLOC=2");
    while (answer.find("516") != std::string::npos && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a host's poll interval
      answer = at("AT+QGPSLOC=2");
    }
    return answer;
  }

  ModuleHarness harness_{builtin()};
  ModuleTerminal terminal_{harness_};
};

TEST_F(ModuleGnss, ASessionFixesWhereTheControlSocketPutsTheModule) {
  const auto moved = gnss({.latitude = 59.32938, .longitude = 18.06871, .altitude_m = 28.0});
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->session);
  EXPECT_EQ(at("AT+QGPS=1"), "\r\nOK\r\n");
  EXPECT_NE(locate().find(",59.32938,18.06871,1.0,28.0,3,"), std::string::npos);
  EXPECT_TRUE(gnss({})->fixed);

  ASSERT_TRUE(gnss({.signal = false}).has_value());
  EXPECT_EQ(at("AT+QGPSLOC=2"), "\r\n+CME ERROR: 516\r\n");
  EXPECT_FALSE(gnss({})->fixed);
  ASSERT_TRUE(gnss({.signal = true}).has_value());

  harness_.clear_events();
  harness_.on_io([this] {
    terminal_.drop();
    return harness_.module().reset();
  });
  ASSERT_TRUE(harness_.wait_power_event({PowerState::app_rdy}));
  EXPECT_EQ(at("AT+QGPS?"), "\r\n+QGPS: 0\r\n\r\nOK\r\n") << "a boot ends the session";
  EXPECT_EQ(gnss({})->latitude, 59.32938) << "the world stays";
}

TEST_F(ModuleGnss, ImpossiblePositionsAreRefused) {
  EXPECT_EQ(gnss({.latitude = 91.0, .longitude = 0.0}).error().error_class, "InvalidParameter");
  EXPECT_EQ(gnss({.latitude = 10.0}).error().error_class, "InvalidParameter") << "latitude alone";
  EXPECT_EQ(gnss({.latitude = 0.0, .longitude = -181.0}).error().error_class, "InvalidParameter");
}

}  // namespace
}  // namespace vmodem::sim::testing
