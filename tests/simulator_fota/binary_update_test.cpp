// The real `vmodem` binary: a package staged offline with `vmodem firmware
// stage` is applied by the next `vmodem run`, its URCs read from the PTY
// like a host; `vmodem delta apply --image` downgrades the stopped module
// through the same journaled update; `vmodem firmware info` reports it.
#include "module_fixture.hpp"
#include "process.hpp"

namespace vmodem::sim::testing {
namespace {

using e2e::Daemon;
using e2e::Host;
using vmodem::testing::run_shell;

// The firmware a stopped module's image holds.
fota::FirmwareBundle firmware_of(const std::filesystem::path& state) {
  auto flash =
      Flash::open(builtin(), state / "nand.img", Flash::Mode::open_existing, Seeds{11}, true);
  EXPECT_TRUE(flash) << (flash ? "" : flash.error());
  if (!flash) return {};
  auto store = fota::FirmwareStore::open((*flash)->device(), *firmware_layout(builtin()));
  auto loaded = (*store)->load();
  EXPECT_TRUE(loaded) << loaded.error().message;
  return loaded ? loaded->bundle : fota::FirmwareBundle{};
}

void write(const std::filesystem::path& path, const Bytes& data) {
  ASSERT_TRUE(fota::write_file_atomic(path, data));
}

TEST(FirmwareBinary, StagedOfflineAppliedByRunThenDowngradedByDeltaApply) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_power("app_rdy")) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
  const auto v1 = firmware_of(daemon.state());
  ASSERT_EQ(v1.version, "BG95M3LAR02A03");
  const auto v2 = next_version(v1, "BG95M3LAR02A04");
  const auto up = daemon.state().parent_path() / "up.pkg";
  const auto down = daemon.state().parent_path() / "down.pkg";
  write(up, package_for(v1, v2));
  write(down, package_for(v2, v1));
  const std::string vmodem = VMODEM_BINARY;
  const std::string state = daemon.state().string();

  auto staged = run_shell(vmodem + " firmware stage " + up.string() + " --image " + state);
  ASSERT_EQ(staged.exit_code, 0) << staged.out;

  daemon.start();
  Host host(daemon.port("ttyUSB2"));
  ASSERT_TRUE(host.is_open());
  const std::string seen = host.read_until("RDY", 10s);
  EXPECT_NE(seen.find("+QIND: \"FOTA\",\"START\""), std::string::npos) << seen;
  EXPECT_NE(seen.find("+QIND: \"FOTA\",\"UPDATING\",100"), std::string::npos) << seen;
  EXPECT_NE(seen.find("+QIND: \"FOTA\",\"END\",0"), std::string::npos) << seen;
  ASSERT_TRUE(daemon.wait_power("app_rdy")) << daemon.log();
  EXPECT_NE(host.command("AT+CGMR").find("BG95M3LAR02A04"), std::string::npos);
  EXPECT_EQ(daemon.stop(), 0);

  auto applied = run_shell(vmodem + " delta apply " + down.string() + " --image " + state +
                           " --json 2>/dev/null");
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  EXPECT_EQ(nlohmann::json::parse(applied.out)["target_version"], "BG95M3LAR02A03");
  auto info = run_shell(vmodem + " firmware info " + state + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["running"]["version"], "BG95M3LAR02A03");
  EXPECT_EQ(j["running"]["slot"], "A");
  EXPECT_TRUE(j["staged"].is_null());
  EXPECT_EQ(j["records"][0]["generation"], 3);

  // A package for other firmware: END 510, exit 1, nothing changes.
  auto refused =
      run_shell(vmodem + " delta apply " + down.string() + " --image " + state + " 2>&1");
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("END\",510"), std::string::npos) << refused.out;
  EXPECT_EQ(firmware_of(daemon.state()).version, "BG95M3LAR02A03");
}

// The offline writers refuse an image a running module holds (exit 6, "in
// use") and change nothing; the package goes in once the module is stopped.
TEST(FirmwareBinary, OfflineWritersRefuseTheImageOfARunningModule) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_power("app_rdy")) << daemon.log();
  const auto v1 = firmware_of(daemon.state());  // readers are welcome
  ASSERT_EQ(v1.version, "BG95M3LAR02A03");
  const auto up = daemon.state().parent_path() / "up.pkg";
  write(up, package_for(v1, next_version(v1, "BG95M3LAR02A04")));
  const std::string vmodem = VMODEM_BINARY;
  const std::string state = daemon.state().string();
  for (const std::string command : {" firmware stage ", " delta apply "}) {
    auto refused = run_shell(vmodem + command + up.string() + " --image " + state + " 2>&1");
    EXPECT_EQ(refused.exit_code, 6) << command << refused.out;
    EXPECT_NE(refused.out.find("in use"), std::string::npos) << refused.out;
  }
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(firmware_of(daemon.state()).version, "BG95M3LAR02A03");
  auto info = run_shell(vmodem + " firmware info " + state + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_TRUE(nlohmann::json::parse(info.out)["staged"].is_null()) << "nothing was staged";
  auto staged = run_shell(vmodem + " firmware stage " + up.string() + " --image " + state);
  EXPECT_EQ(staged.exit_code, 0) << staged.out;
}

}  // namespace
}  // namespace vmodem::sim::testing
