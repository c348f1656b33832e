// `vmodem run --count N`: N modules served by one process, each in
// <state>/<i> with its own ports, control socket, log and seed; what happens
// to one (a power cut, a reset) leaves the others alone.
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

// `vmodem ctl` against module `i` of the daemon's fleet.
nlohmann::json ctl(const Daemon& daemon, int i, const std::string& args) {
  const auto state = daemon.state() / std::to_string(i);
  const auto [code, out] = vmodem::testing::run_shell(vmodem_binary() + " ctl --state " +
                                                      state.string() + " --json " + args + " 2>&1");
  if (code != 0) return {{"error", code}, {"output", out}};
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json{{"error", -2}, {"output", out}} : parsed;
}

int opened_handle(Host& host, const std::string& name) {
  const auto out = host.command("AT+QFOPEN=\"" + name + "\",0");
  int handle = -1;
  EXPECT_EQ(std::sscanf(out.c_str(), "\r\n+QFOPEN: %d", &handle), 1) << out;
  return handle;
}

void write_through(Host& host, int handle, const std::string& bytes) {
  host.write("AT+QFWRITE=" + std::to_string(handle) + "," + std::to_string(bytes.size()) + "\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write(bytes);
  const auto done = host.read_until("OK\r\n");
  EXPECT_NE(done.find("+QFWRITE: " + std::to_string(bytes.size())), std::string::npos) << done;
}

TEST(Fleet, ACutInOneModuleLeavesTheOthersOpenFilesAlone) {
  Daemon daemon({"--count", "2"});
  Host a(daemon.state() / "0" / "ttyUSB2");
  Host b(daemon.state() / "1" / "ttyUSB2");
  ASSERT_NE(a.read_until_booted().find("APP RDY"), std::string::npos);
  ASSERT_NE(b.read_until_booted().find("APP RDY"), std::string::npos);
  // `ctl` on the fleet's own directory says where the modules are.
  const auto root = daemon.ctl("status");
  EXPECT_EQ(root["error"], 6) << root.dump();
  EXPECT_NE(root.value("output", "").find("--state " + (daemon.state() / "0").string()),
            std::string::npos)
      << root.dump();
  // Each module has its own seed: the run's, plus its index.
  EXPECT_EQ(ctl(daemon, 0, "status")["seed"], "11");
  EXPECT_EQ(ctl(daemon, 1, "status")["seed"], "12");
  for (Host* host : {&a, &b})
    ASSERT_EQ(host->command("ATE0"), "ATE0\r\r\nOK\r\n");
  // ... and its own IMEI: module 0 the profile's, module 1 the next one.
  EXPECT_EQ(a.command("AT+CGSN"), "\r\n866349041234562\r\n\r\nOK\r\n");
  EXPECT_EQ(b.command("AT+CGSN"), "\r\n866349041234570\r\n\r\nOK\r\n");

  const int in_a = opened_handle(a, "a.txt");
  const int in_b = opened_handle(b, "b.txt");
  write_through(a, in_a, "hello");
  write_through(b, in_b, "hello");

  ASSERT_FALSE(ctl(daemon, 0, "power-cut").contains("error"));
  EXPECT_TRUE(a.hung_up());
  // Module 1 did not notice: its handle still writes and closes.
  write_through(b, in_b, "xyz");
  EXPECT_EQ(b.command("AT+QFCLOSE=" + std::to_string(in_b)), "\r\nOK\r\n");
  EXPECT_EQ(b.command("AT+QFLST=\"b.txt\""), "\r\n+QFLST: \"b.txt\",8\r\n\r\nOK\r\n");
  const auto other = ctl(daemon, 1, "status");
  EXPECT_EQ(other["power"], "app_rdy");
  EXPECT_EQ(other["boots"], 1);

  // Module 0 comes back without the handle its cut took.
  ASSERT_FALSE(ctl(daemon, 0, "power-on").contains("error"));
  Host again(daemon.state() / "0" / "ttyUSB2");
  ASSERT_NE(again.read_until_booted().find("APP RDY"), std::string::npos);
  ASSERT_EQ(again.command("ATE0"), "ATE0\r\r\nOK\r\n");
  EXPECT_NE(again.command("AT+QFCLOSE=" + std::to_string(in_a)).find("ERROR"), std::string::npos);
  EXPECT_EQ(ctl(daemon, 1, "status")["boots"], 1);
}

TEST(Fleet, ModulesAreClonedFromOneTemplateAndKeptForTheNextStart) {
  vmodem::testing::TempDir dir;
  const auto state = dir / "fleet";
  const std::string run =
      vmodem_binary() + " run --once --count 3 --seed 5 --state " + state.string();
  const auto first = vmodem::testing::run_shell(run + " 2>&1");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("all 3 modules APP RDY"), std::string::npos) << first.out;
  // One manufacture (the template), not three.
  std::size_t manufactured = 0;
  for (auto at = first.out.find("manufactured a new NAND image"); at != std::string::npos;
       at = first.out.find("manufactured a new NAND image", at + 1))
    ++manufactured;
  EXPECT_EQ(manufactured, 1U) << first.out;
  for (const char* i : {"0", "1", "2"}) {
    EXPECT_TRUE(std::filesystem::exists(state / i / "nand.img")) << i;
    EXPECT_TRUE(std::filesystem::exists(state / i / "vmodem.log")) << i;
  }
  // A clone boots as its own module: no file system rebuilt, no restore.
  const auto log = vmodem::testing::run_shell("cat " + (state / "2" / "vmodem.log").string());
  EXPECT_NE(log.out.find("booted in"), std::string::npos) << log.out;
  EXPECT_EQ(log.out.find("reformatting"), std::string::npos) << log.out;
  EXPECT_EQ(log.out.find("restoring"), std::string::npos) << log.out;

  const auto second = vmodem::testing::run_shell(run + " 2>&1");
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out.find("manufactured"), std::string::npos) << second.out;
}

TEST(Fleet, AKilledFleetLeavesNoPortLinkBehind) {
  Daemon daemon({"--count", "2"});
  Host a(daemon.state() / "1" / "ttyUSB2");
  ASSERT_NE(a.read_until_booted().find("APP RDY"), std::string::npos);
  daemon.kill_hard(/*tidy_links=*/false);
  // The reaper removes every module's links once the process is gone.
  const auto until = std::chrono::steady_clock::now() + 5s;
  auto any_link = [&] {
    for (const char* i : {"0", "1"}) {
      for (const char* port : {"ttyUSB2", "ttyUSB3"}) {
        if (std::filesystem::is_symlink(daemon.state() / i / port)) return true;
      }
    }
    return false;
  };
  while (any_link() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(any_link());
}

}  // namespace
}  // namespace vmodem::e2e
