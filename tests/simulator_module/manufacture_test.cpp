// Manufacture: `vmodem image create` and a module's first power-on are one
// code path, so an image made offline is ready for every tool and for the
// host's backup commands (production-line backups taken).
#include <fstream>

#include <gtest/gtest.h>

#include <vmodem/simulator/manufacture.hpp>

#include "module_fixture.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::testing {
namespace {

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::filesystem::file_size(path), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

TEST(Manufacture, AnImageMadeOfflineIsTheImageAFirstPowerOnMakes) {
  vmodem::testing::TempDir dir;
  const auto offline = dir.path() / "offline.img";
  ASSERT_TRUE(manufacture_image(builtin("bg77"), offline, Seeds{5}, nullptr));

  std::string first_boot;
  {
    ModuleHarness harness(builtin("bg77"), 5);
    ASSERT_TRUE(harness.ok());
    harness.power_on();
    ASSERT_TRUE(harness.wait_power(PowerState::app_rdy));
    harness.on_io([&] { harness.module().shutdown(); });
    first_boot = file_bytes(harness.dir() / "state" / "nand.img");
  }
  const std::string made = file_bytes(offline);
  ASSERT_EQ(made.size(), first_boot.size());
  EXPECT_TRUE(made == first_boot) << "every byte: cells, spare, wear, counters, header";
}

TEST(Manufacture, AManufacturedImageBootsWithItsProductionLineBackups) {
  vmodem::testing::TempDir dir;
  const auto image = dir.path() / "m.img";
  ASSERT_TRUE(manufacture_image(builtin(), image, Seeds{9}, nullptr));
  ModuleHarness harness(builtin(), 9, image);
  ASSERT_TRUE(harness.ok());
  harness.power_on();
  ASSERT_TRUE(harness.wait_power(PowerState::app_rdy));
  EXPECT_EQ(harness.count("FS_REBUILT"), 0U) << "nothing is reformatted at the next boot";
  ModuleTerminal terminal(harness);
  const auto info = terminal.at("AT+QPRTPARA=14");
  EXPECT_NE(info.find("OK"), std::string::npos) << info;
  EXPECT_EQ(terminal.at("AT+QPRTPARA=3"), "\r\nOK\r\n") << "the backup can be restored";
  auto backup = harness.on_io([&] { return harness.module().backup_info("ap"); });
  ASSERT_TRUE(backup) << backup.error().desc;
  EXPECT_TRUE(backup->info.valid);
  EXPECT_EQ(backup->info.backup_count, 1U) << "the production-line backup";
}

TEST(Manufacture, NeverTouchesAnImageThatExists) {
  vmodem::testing::TempDir dir;
  const auto image = dir.path() / "m.img";
  { std::ofstream(image) << "someone's file"; }
  const auto made = manufacture_image(builtin(), image, Seeds{1}, nullptr);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().kind, ManufactureError::Kind::image);
  EXPECT_EQ(file_bytes(image), "someone's file");
}

}  // namespace
}  // namespace vmodem::sim::testing
