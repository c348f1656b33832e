// `--real-time`: NAND operations take their datasheet time, each from when it
// starts. A module that sat idle has no time banked: the backup a host asks
// for after the boot's URCs still costs what its NAND operations cost.
#include <chrono>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

std::uint64_t nand_time_ns(const Daemon& daemon) {
  const auto stats = daemon.ctl("stats");
  EXPECT_TRUE(stats.contains("counters")) << stats.dump();
  return stats.contains("counters") ? stats["counters"]["virtual_time_ns"].get<std::uint64_t>() : 0;
}

TEST(RealTime, AnApBackupAfterAnIdleSpellTakesItsNandTime) {
  Daemon daemon({"--real-time"});
  Host host(daemon.port("ttyUSB2"), 15s);
  // The last boot URC comes about two seconds after RDY, the NAND idle
  // most of that time: under the old pacing all of it was credit.
  ASSERT_NE(host.read_until("+QIND: PB DONE\r\n", 15s).find("PB DONE"), std::string::npos);
  ASSERT_EQ(host.command("ATE0"), "ATE0\r\r\nOK\r\n");
  // A file worth backing up: the AP backup then programs hundreds of pages
  // (250 us each), far more NAND time than the CPU time the copy costs here.
  std::string content(300 * 1024, '\0');
  std::uint32_t x = 2463534242U;  // xorshift32: bytes no layer can shrink
  for (char& c : content) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  host.write("AT+QFUPL=\"big.bin\"," + std::to_string(content.size()) + ",10\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write(content);
  ASSERT_NE(host.read_until("OK\r\n", 20s).find("+QFUPL: "), std::string::npos);
  // Idle again, as a host that does something else for a while.
  ASSERT_EQ(host.command("AT"), "\r\nOK\r\n");
  const std::uint64_t before = nand_time_ns(daemon);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(host.command("AT+QPRTPARA=11", 20s), "\r\nOK\r\n");
  const auto wall = std::chrono::steady_clock::now() - started;
  const std::uint64_t spent = nand_time_ns(daemon) - before;
  ASSERT_GT(spent, 50'000'000U) << "the backup cost less NAND time than expected: " << spent;
  // Less than a millisecond of pacing may be left unslept at the end.
  EXPECT_GE(wall + std::chrono::milliseconds(1), std::chrono::nanoseconds(spent))
      << "answered in " << std::chrono::duration<double, std::milli>(wall).count() << " ms for "
      << spent / 1e6 << " ms of NAND operations";
}

}  // namespace
}  // namespace vmodem::e2e
