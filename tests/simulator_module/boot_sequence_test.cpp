// The boot sequence stepped by hand, with times the test chooses: no clock,
// no io_context, no sleeps.
#include "module/boot_sequence.hpp"

#include <gtest/gtest.h>

namespace vmodem::sim {
namespace {

using namespace std::chrono_literals;
using Time = BootSequence::Time;

BootConfig bg95_boot() {
  auto profile = load_profile("bg95-m3");
  EXPECT_TRUE(profile) << profile.error().describe();
  return profile->boot;
}

// Takes the next action, checks it, and reports it finished `took` later.
Time expect_step(BootSequence& boot, BootStep step, Time due, std::chrono::milliseconds took = 0ms,
                 const std::string& urc = "") {
  const auto action = boot.next();
  EXPECT_TRUE(action.has_value()) << "expected " << to_string(step);
  if (!action) return due;
  EXPECT_EQ(action->step, step) << to_string(action->step);
  EXPECT_EQ(action->due - Time{}, due - Time{}) << to_string(step) << " " << urc;
  EXPECT_EQ(action->urc, urc);
  boot.done(action->due + took);
  return action->due + took;
}

TEST(BootSequence, StepsInOrderAtTheProfilesTimesInRealTime) {
  const BootConfig config = bg95_boot();
  BootSequence boot(config, /*real_time=*/true);
  const Time on{};
  boot.start(on);
  expect_step(boot, BootStep::firmware, on);
  // The mount takes 40 ms: RDY comes rdy_after_ms after it finished.
  const Time mounted = expect_step(boot, BootStep::modem_fs, on, 40ms);
  const Time rdy = expect_step(boot, BootStep::rdy, mounted + 2800ms);
  expect_step(boot, BootStep::urc, rdy + 60ms, 0ms, "+CFUN: 1");
  expect_step(boot, BootStep::urc, rdy + 180ms, 0ms, "+CPIN: READY");
  expect_step(boot, BootStep::urc, rdy + 200ms, 0ms, "+QUSIM: 1");
  expect_step(boot, BootStep::urc, rdy + 1100ms, 0ms, "+QIND: SMS DONE");
  // The other file systems at app_rdy_after_ms; APP RDY once they are up.
  const Time app_mounted = expect_step(boot, BootStep::app_fs, rdy + 1500ms, 30ms);
  expect_step(boot, BootStep::app_rdy, app_mounted);
  expect_step(boot, BootStep::urc, rdy + 1900ms, 0ms, "+QIND: PB DONE");
  EXPECT_FALSE(boot.next().has_value());
}

TEST(BootSequence, FastModeDividesEveryDelay) {
  const BootConfig config = bg95_boot();
  ASSERT_EQ(config.fast_mode_divisor, 1000U);
  BootSequence boot(config, /*real_time=*/false);
  const Time on{};
  boot.start(on);
  expect_step(boot, BootStep::firmware, on);
  expect_step(boot, BootStep::modem_fs, on);
  const Time rdy = expect_step(boot, BootStep::rdy, on + 2ms);  // 2800 / 1000
  // 60, 180 and 200 ms become 0: due at RDY, in the profile's order.
  expect_step(boot, BootStep::urc, rdy, 0ms, "+CFUN: 1");
  expect_step(boot, BootStep::urc, rdy, 0ms, "+CPIN: READY");
  expect_step(boot, BootStep::urc, rdy, 0ms, "+QUSIM: 1");
  // SMS DONE (1100 -> 1 ms), the mount and APP RDY (1500 -> 1 ms) and PB
  // DONE (1900 -> 1 ms) fall due together, in real time's order: a host
  // sees PB DONE after APP RDY in fast mode as on the module.
  expect_step(boot, BootStep::urc, rdy + 1ms, 0ms, "+QIND: SMS DONE");
  expect_step(boot, BootStep::app_fs, rdy + 1ms);
  expect_step(boot, BootStep::app_rdy, rdy + 1ms);
  expect_step(boot, BootStep::urc, rdy + 1ms, 0ms, "+QIND: PB DONE");
  EXPECT_FALSE(boot.next().has_value());
}

// Firmware that never prints APP RDY (UC20) is whole at RDY: the
// application side mounts before it and is up when RDY is out, so commands
// that need it answer from RDY on, not app_rdy_after_ms later.
TEST(BootSequence, WithoutAppRdyTheApplicationSideIsUpAtRdy) {
  auto profile = load_profile("uc20");
  ASSERT_TRUE(profile) << profile.error().describe();
  ASSERT_FALSE(profile->boot.app_rdy);
  BootSequence boot(profile->boot, /*real_time=*/true);
  const Time on{};
  boot.start(on);
  expect_step(boot, BootStep::firmware, on);
  expect_step(boot, BootStep::modem_fs, on);
  const Time app_mounted = expect_step(boot, BootStep::app_fs, on, 30ms);
  const Time rdy = expect_step(boot, BootStep::rdy, app_mounted + 6000ms);
  expect_step(boot, BootStep::app_rdy, rdy);
  expect_step(boot, BootStep::urc, rdy + 300ms, 0ms, "+CPIN: READY");
}

TEST(BootSequence, AStepThatRunsLateDelaysTheNextOneNeverTheOtherWay) {
  const BootConfig config = bg95_boot();
  BootSequence boot(config, /*real_time=*/true);
  const Time on{};
  boot.start(on);
  expect_step(boot, BootStep::firmware, on);
  expect_step(boot, BootStep::modem_fs, on);
  const Time rdy = expect_step(boot, BootStep::rdy, on + 2800ms);
  expect_step(boot, BootStep::urc, rdy + 60ms, 0ms, "+CFUN: 1");
  expect_step(boot, BootStep::urc, rdy + 180ms, 0ms, "+CPIN: READY");
  expect_step(boot, BootStep::urc, rdy + 200ms, 0ms, "+QUSIM: 1");
  // SMS DONE is only sent 700 ms late (a busy io thread): the mount due
  // before then waits for it, and the later steps keep their times.
  const Time late = expect_step(boot, BootStep::urc, rdy + 1100ms, 700ms, "+QIND: SMS DONE");
  ASSERT_EQ(late, rdy + 1800ms);
  expect_step(boot, BootStep::app_fs, late);
  expect_step(boot, BootStep::app_rdy, late);
  expect_step(boot, BootStep::urc, rdy + 1900ms, 0ms, "+QIND: PB DONE");
}

TEST(BootSequence, StartBeginsAgainFromTheFirmware) {
  const BootConfig config = bg95_boot();
  BootSequence boot(config, /*real_time=*/true);
  const Time on{};
  boot.start(on);
  expect_step(boot, BootStep::firmware, on);
  expect_step(boot, BootStep::modem_fs, on);
  // Power lost before RDY; the next power-on starts over.
  const Time again = on + 10s;
  boot.start(again);
  expect_step(boot, BootStep::firmware, again);
  expect_step(boot, BootStep::modem_fs, again);
  expect_step(boot, BootStep::rdy, again + 2800ms);
}

}  // namespace
}  // namespace vmodem::sim
