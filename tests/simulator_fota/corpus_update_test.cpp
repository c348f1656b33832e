// Module-level upgrade and downgrade with real firmware (the ESP8266 AT
// corpus as the "modem" image, named by the profile's firmware manifest).
#include <vmodem/fota/bundle.hpp>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using e2e::Host;

std::filesystem::path corpus(const std::string& version) {
  return std::filesystem::path(FOTA_CORPUS_DIR) / ("esp8266-at-" + version + ".bin");
}

// bg95-m3 with a firmware section naming a manifest of `version`.
Profile corpus_profile(const std::filesystem::path& dir, const std::string& version) {
  std::ofstream(dir / "fw.json") << nlohmann::json{
      {"model", "BG95-M3"},
      {"version", version},
      {"images", {{{"name", "modem"}, {"file", corpus(version).string()}}}}};
  std::ifstream in(std::filesystem::path(VMODEM_CONFIGS) / "bg95-m3.json");
  nlohmann::json profile = nlohmann::json::parse(in);
  profile["firmware"] = {{"manifest", "fw.json"}};
  std::ofstream(dir / "profile.json") << profile.dump(2);
  auto loaded = load_profile((dir / "profile.json").string());
  EXPECT_TRUE(loaded) << loaded.error().describe();
  return *loaded;
}

TEST(ModuleFirmwareCorpus, UpgradesTo171AndDowngradesBackTo170) {
  if (!std::filesystem::exists(corpus("1.7.0")) || !std::filesystem::exists(corpus("1.7.1"))) {
    GTEST_SKIP() << "firmware corpus not found at " FOTA_CORPUS_DIR;
  }
  vmodem::testing::TempDir dir;
  ModuleHarness m(corpus_profile(dir.path(), "1.7.0"));
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  const auto v170 = m.running_firmware();
  EXPECT_EQ(v170.version, "1.7.0");
  ASSERT_EQ(v170.images.size(), 1u);
  EXPECT_EQ(v170.images[0].data, *fota::read_file(corpus("1.7.0"), 1u << 24));

  std::ofstream(dir.path() / "fw171.json")
      << nlohmann::json{{"model", "BG95-M3"},
                        {"version", "1.7.1"},
                        {"images", {{{"name", "modem"}, {"file", corpus("1.7.1").string()}}}}};
  auto v171 = fota::load_bundle(dir.path() / "fw171.json");
  ASSERT_TRUE(v171) << v171.error().message;

  Host host(m.port());
  for (const auto& [from, to] : {std::pair{v170, *v171}, std::pair{*v171, v170}}) {
    m.clear_events();
    EXPECT_EQ(m.on_io([&] { return m.module().stage_firmware_update(package_for(from, to)); }), 0);
    ASSERT_TRUE(m.wait_event("FOTA_END", 1, 60s));
    ASSERT_TRUE(m.wait_power(PowerState::app_rdy, 30s));
    expect_update_urcs(m.urcs());
    EXPECT_EQ(m.on_io([&] { return m.module().firmware_version(); }), to.version);
    const auto fw = m.running_firmware();
    ASSERT_EQ(fw.images.size(), 1u);
    EXPECT_EQ(fw.images[0].data, to.images[0].data);
  }
  Host again(m.port());
  EXPECT_NE(again.command("AT+CGMR").find("1.7.0"), std::string::npos);
}

}  // namespace
}  // namespace vmodem::sim::testing
