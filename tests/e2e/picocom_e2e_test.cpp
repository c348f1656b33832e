// A terminal program a person uses to try a module: Debian's picocom,
// unmodified, on the AT port of the real binary (skipped when it is not
// installed). It opens the port, sends its init string and shows the answer.
#include <filesystem>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

constexpr const char* kPicocom = "/usr/bin/picocom";

TEST(PicocomE2e, ShowsWhatTheModuleAnswersToItsInitString) {
  if (!std::filesystem::exists(kPicocom)) GTEST_SKIP() << kPicocom << " is not installed";
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  // -q quiet, -r no reset on exit, -x: leave after 1.5 s without traffic;
  // stdin is not a terminal, so only the init string is sent.
  const auto run =
      vmodem::testing::run_shell("timeout 20 " + std::string(kPicocom) +
                                 " -q -r -x 1500 --initstring \"$(printf 'ATI\\r')\" " +
                                 daemon.port("ttyUSB2").string() + " < /dev/null 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("ATI\r\r\nQuectel\r\nBG95-M3\r\nRevision: "), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("\r\nOK\r\n"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace vmodem::e2e
