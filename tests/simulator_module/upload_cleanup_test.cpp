// A power cut in the middle of AT+QFUPL leaves the upload's temporary file
// on flash (it holds no committed data, only space): the next boot frees it
// before APP RDY, so the host sees all its free space again without having
// to start another upload first.
#include <gtest/gtest.h>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

// The free bytes of +QFLDS: <free>,<total>.
std::uint64_t free_bytes(const std::string& answer) {
  const auto at = answer.find("+QFLDS: ");
  EXPECT_NE(at, std::string::npos) << answer;
  return at == std::string::npos ? 0 : std::stoull(answer.substr(at + 8));
}

std::size_t stale_uploads(ModuleHarness& harness) {
  return harness.on_io([&] {
    const auto held = harness.module().file_system(FsRole::ap)->lock();
    const auto entries = held->readdir("/.qfupl");
    return entries ? entries->size() : 0;
  });
}

TEST(UploadCleanup, ABootFreesWhatAnInterruptedUploadHeld) {
  ModuleHarness harness{builtin()};
  ASSERT_TRUE(harness.ok());
  harness.power_on();
  ASSERT_TRUE(harness.wait_power(PowerState::app_rdy));
  std::uint64_t free_before = 0;
  {
    ModuleTerminal terminal(harness);
    // A finished upload first, so the upload directory exists in both
    // figures compared below.
    ASSERT_EQ(terminal.at("AT+QFUPL=\"small.bin\",1,5"), "\r\nCONNECT\r\n");
    ASSERT_NE(terminal.at("").find("OK"), std::string::npos);  // its byte: the CR
    ASSERT_EQ(terminal.at("AT+QFDEL=\"small.bin\""), "\r\nOK\r\n");
    free_before = free_bytes(terminal.at("AT+QFLDS=\"UFS\""));
    ASSERT_EQ(terminal.at("AT+QFUPL=\"big.bin\",200000,5"), "\r\nCONNECT\r\n");
    // 100,000 bytes of it (the line's CR is the last data byte).
    (void)terminal.at(std::string(99999, 'x'));
    ASSERT_EQ(stale_uploads(harness), 1U) << "the upload writes a temporary file";
    harness.clear_events();
    ASSERT_TRUE(harness.on_io([&] { return harness.module().power_cut(PowerCutRequest{}); }));
  }
  ASSERT_TRUE(harness.wait_power(PowerState::off));
  harness.power_on();
  ASSERT_TRUE(harness.wait_power(PowerState::app_rdy));
  EXPECT_EQ(stale_uploads(harness), 0U);
  ModuleTerminal terminal(harness);
  // The 100,000 bytes are back; what the cut and the clean-up themselves
  // wrote (a page of metadata) is not garbage-collected yet.
  EXPECT_GE(free_bytes(terminal.at("AT+QFLDS=\"UFS\"")) + 2 * 2048, free_before);
  EXPECT_EQ(terminal.at("AT+QFLST=\"big.bin\""), "\r\n+CME ERROR: 405\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
