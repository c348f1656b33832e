// The firmware update inside the running module: staged through
// Module::stage_firmware_update() (the AT+QFOTADL entry point), applied at
// the reset that follows, seen by the host on the AT port.
#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using e2e::Host;

TEST(ModuleFirmware, ManufactureWritesTheFactoryFirmwareAndATIReportsIt) {
  ModuleHarness m(builtin());
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const auto fw = m.running_firmware();
  EXPECT_EQ(fw.version, "BG95M3LAR02A03");
  EXPECT_EQ(fw.model, "BG95-M3");
  std::vector<std::string> names;
  for (const auto& image : fw.images)
    names.push_back(image.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tz", "rpm", "aboot", "boot", "modem"}));
  Host host(m.port());
  EXPECT_NE(host.command("ATI").find("Revision: BG95M3LAR02A03"), std::string::npos);
}

TEST(ModuleFirmware, StagedUpdateRunsAtTheResetWithURCsOnTheATPort) {
  ModuleHarness m(builtin());
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  // A file the host stored must survive the update.
  const Bytes note = {'k', 'e', 'e', 'p'};
  ASSERT_TRUE(m.on_io(
      [&] { return m.module().ap_fs()->lock()->write_file("/keep.txt", note).has_value(); }));
  const auto v1 = m.running_firmware();
  const auto v2 = next_version(v1, "BG95M3LAR02A04");
  const Bytes package = package_for(v1, v2);

  Host before(m.port());
  ASSERT_TRUE(before.is_open());
  EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(package); }), 0);
  EXPECT_TRUE(before.hung_up(3000ms)) << "the USB port must vanish at the reset";

  Host host(m.port());
  ASSERT_TRUE(host.is_open());
  const std::string seen = host.read_until("RDY", 10s);
  const auto start = seen.find("+QIND: \"FOTA\",\"START\"");
  const auto updating = seen.find("+QIND: \"FOTA\",\"UPDATING\",");
  const auto hundred = seen.find("+QIND: \"FOTA\",\"UPDATING\",100");
  const auto end = seen.find("+QIND: \"FOTA\",\"END\",0");
  const auto rdy = seen.find("RDY", end == std::string::npos ? 0 : end);
  ASSERT_NE(start, std::string::npos) << seen;
  EXPECT_LT(start, updating) << seen;
  EXPECT_LT(updating, hundred) << seen;
  EXPECT_LT(hundred, end) << seen;
  EXPECT_NE(rdy, std::string::npos) << seen;
  expect_update_urcs(m.urcs());

  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  EXPECT_NE(host.command("ATI").find("Revision: BG95M3LAR02A04"), std::string::npos);
  EXPECT_NE(host.command("AT+CGMR").find("BG95M3LAR02A04"), std::string::npos);
  EXPECT_NE(host.command("AT+QGMR").find("BG95M3LAR02A04_01.001.01.001"), std::string::npos);
  const auto fw = m.running_firmware();
  ASSERT_EQ(fw.images.size(), v2.images.size());
  for (const auto& image : v2.images)
    EXPECT_EQ(fw.find(image.name)->data, image.data) << image.name;
  const auto kept = m.on_io([&] {
    auto data = m.module().ap_fs()->lock()->read_file("/keep.txt");
    return data ? *data : Bytes{};
  });
  EXPECT_EQ(kept, note);
  ASSERT_EQ(m.named("FOTA_END").size(), 1u);
  EXPECT_EQ(m.named("FOTA_END")[0]["code"], 0);
  EXPECT_EQ(m.named("FOTA_END")[0]["to"], "BG95M3LAR02A04");
  EXPECT_EQ(m.named("FOTA_START").size(), 1u);
  EXPECT_GT(m.named("FOTA_PROGRESS").size(), 0u);
}

TEST(ModuleFirmware, ARefusedPackageEnds510AndTheOldFirmwareBoots) {
  ModuleHarness m(builtin());
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const auto v1 = m.running_firmware();
  auto other = next_version(v1, "OTHER1");
  const Bytes package = package_for(other, next_version(other, "OTHER2"));
  EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(package); }), 0);
  ASSERT_TRUE(m.wait_event("FOTA_END"));
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  EXPECT_EQ(m.named("FOTA_END")[0]["code"], 510);
  const auto urcs = m.urcs();
  const auto end = std::find(urcs.begin(), urcs.end(), "+QIND: \"FOTA\",\"END\",510");
  ASSERT_NE(end, urcs.end());
  ASSERT_NE(end + 1, urcs.end());
  EXPECT_EQ(*(end + 1), "RDY");
  EXPECT_EQ(m.on_io([&] { return m.module().firmware_version(); }), "BG95M3LAR02A03");
  // No retry loop: the next reset boots plainly.
  m.clear_events();
  m.on_io([&] { return m.module().reset(); });
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  EXPECT_EQ(m.count("FOTA_START"), 0u);
}

TEST(ModuleFirmware, APackageLargerThanTheFotaAreaIsRefusedWith511) {
  ModuleHarness m(builtin());
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const Bytes huge(11u << 20, 0x42);  // the bg95 FOTA area is 80 blocks (10 MiB)
  EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(huge); }), 511);
  EXPECT_EQ(m.on_io([&] { return m.module().power_state(); }), PowerState::app_rdy);
}

TEST(ModuleFirmware, APowerCutDuringTheUpdateResumesWithRestoreAtTheNextPowerOn) {
  ModuleHarness m(builtin());
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const auto v1 = m.running_firmware();
  const auto v2 = next_version(v1, "BG95M3LAR02A04");
  const Bytes package = package_for(v1, v2);
  // Cut power a few NAND operations after the update passes 40%: images
  // before it are complete and journaled.
  auto armed = std::make_shared<bool>(false);
  m.on_io([&] {
    m.set_hook([&m, armed](const nlohmann::json& event) {
      if (!*armed && event["event"] == "FOTA_PROGRESS" &&
          event["data"]["percent"].get<int>() >= 40) {
        *armed = true;
        (void)m.module().flash().lock().faults().arm_power_cut(5, nand::CutMode::torn_partial);
      }
    });
    return 0;
  });
  EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(package); }), 0);
  ASSERT_TRUE(m.wait_event("FOTA_START"));
  ASSERT_TRUE(m.wait_power(PowerState::off));
  EXPECT_EQ(m.count("FOTA_END"), 0u) << "the cut must fall inside the update";
  EXPECT_EQ(m.on_io([&] { return m.module().firmware_version(); }), "BG95M3LAR02A03");
  m.clear_events();
  m.power_on();
  ASSERT_TRUE(m.wait_event("FOTA_END"));
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  expect_update_urcs(m.urcs(), /*restore=*/true);
  EXPECT_EQ(m.on_io([&] { return m.module().firmware_version(); }), "BG95M3LAR02A04");
  EXPECT_EQ(m.named("FOTA_END")[0]["resumed"], true);
}

TEST(ModuleFirmware, DowngradeWithTheReversePackage) {
  ModuleHarness m(builtin("bg77"));
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const auto v1 = m.running_firmware();
  const auto v2 = next_version(v1, "BG77LAR02A05");
  for (const auto& [from, to] : {std::pair{v1, v2}, std::pair{v2, v1}}) {
    const std::size_t ends = m.count("FOTA_END");
    EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(package_for(from, to)); }), 0);
    ASSERT_TRUE(m.wait_event("FOTA_END", ends + 1));
    ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
    EXPECT_EQ(m.named("FOTA_END")[ends]["code"], 0);
    EXPECT_EQ(m.on_io([&] { return m.module().firmware_version(); }), to.version);
  }
  const auto fw = m.running_firmware();
  for (const auto& image : v1.images)
    EXPECT_EQ(fw.find(image.name)->data, image.data) << image.name;
}

}  // namespace
}  // namespace vmodem::sim::testing
