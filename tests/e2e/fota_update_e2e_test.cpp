// The whole firmware update through the real vmodem binary, as a host's
// update path sees it: AT+QFOTADL fetches a delta package (HTTP from nginx,
// or UFS after AT+QFUPL), the USB port vanishes and returns, +QIND: "FOTA"
// START, UPDATING rising to 100, END 0, RDY, the new version in ATI /
// AT+CGMR / AT+QGMR, and the host's files still there. Then back down with
// the reverse package.
#include <fstream>

#include <gtest/gtest.h>

#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/profile.hpp>

#include "e2e_support.hpp"
#include "fota_servers.hpp"
#include "module/fota_firmware.hpp"

namespace vmodem::e2e {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The firmware the daemon in `state` runs, read from its NAND image (read
// only: the firmware slots do not change while the module runs).
fota::FirmwareBundle running_firmware(const std::filesystem::path& state) {
  auto profile = sim::load_profile("bg95-m3");
  EXPECT_TRUE(profile);
  auto flash = sim::Flash::open(*profile, state / "nand.img", sim::Flash::Mode::open_existing,
                                sim::Seeds{11}, /*read_only=*/true);
  EXPECT_TRUE(flash) << (flash ? "" : flash.error());
  if (!flash) return {};
  auto layout = sim::firmware_layout(*profile);
  EXPECT_TRUE(layout);
  auto store = fota::FirmwareStore::open((*flash)->device(), *layout);
  EXPECT_TRUE(store);
  if (!store) return {};
  auto loaded = (*store)->load();
  EXPECT_TRUE(loaded);
  return loaded ? loaded->bundle : fota::FirmwareBundle{};
}

// A next version: bytes changed here and there, a block inserted.
fota::FirmwareBundle next_version(fota::FirmwareBundle fw, const std::string& version) {
  fw.version = version;
  for (auto& image : fw.images) {
    for (std::size_t i = 0; i < image.data.size(); i += 997)
      image.data[i] = static_cast<std::uint8_t>(image.data[i] + 1);
    image.data.insert(image.data.begin() + static_cast<std::ptrdiff_t>(image.data.size() / 2), 128,
                      0x5a);
  }
  return fw;
}

std::string package(const fota::FirmwareBundle& from, const fota::FirmwareBundle& to) {
  fota::GeneratorOptions options;
  options.thorough = false;
  auto made = fota::make_package(from, to, options);
  EXPECT_TRUE(made) << made.error().message;
  return made ? std::string(made->bytes.begin(), made->bytes.end()) : std::string();
}

// After the download: the port goes, comes back with the update's URCs and
// RDY; returns the host on the new port, at APP RDY.
std::unique_ptr<Host> follow_update(Daemon& daemon, Host& before) {
  EXPECT_TRUE(before.hung_up(5000ms)) << "the USB port must vanish at the reset";
  auto host = std::make_unique<Host>(daemon.port("ttyUSB2"), 10000ms);
  EXPECT_TRUE(host->is_open());
  const std::string seen = host->read_until_booted(20000ms);
  const auto start = seen.find("+QIND: \"FOTA\",\"START\"\r\n");
  const auto first = seen.find("+QIND: \"FOTA\",\"UPDATING\",");
  const auto hundred = seen.find("+QIND: \"FOTA\",\"UPDATING\",100\r\n");
  const auto end = seen.find("+QIND: \"FOTA\",\"END\",0\r\n");
  const auto rdy = seen.find("\r\nRDY\r\n");
  EXPECT_NE(start, std::string::npos) << seen;
  EXPECT_LT(start, first) << seen;
  EXPECT_LT(first, hundred) << seen;
  EXPECT_LT(hundred, end) << seen;
  EXPECT_LT(end, rdy) << seen;
  EXPECT_NE(rdy, std::string::npos) << seen;
  // The percentages rise.
  int last = 0;
  for (auto at = seen.find("\"UPDATING\","); at != std::string::npos;
       at = seen.find("\"UPDATING\",", at + 1)) {
    const int pct = std::atoi(seen.c_str() + at + 11);
    EXPECT_GT(pct, last) << seen;
    last = pct;
  }
  host->command("ATE0");
  return host;
}

void expect_version(Host& host, const std::string& version) {
  EXPECT_NE(host.command("ATI").find("Revision: " + version + "\r\n"), std::string::npos);
  EXPECT_EQ(host.command("AT+CGMR"), "\r\n" + version + "\r\n\r\nOK\r\n");
  EXPECT_NE(host.command("AT+QGMR").find(version + "_"), std::string::npos);
}

TEST(FotaUpdate, HttpUpgradeThenUfsDowngradeKeepFiles) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until_booted().find("APP RDY"), std::string::npos);
  host.command("ATE0");
  ASSERT_EQ(host.command("AT+QIACT=1"), "\r\nOK\r\n");
  const std::string note = "the host's file";
  host.write("AT+QFUPL=\"keep.txt\"," + std::to_string(note.size()) + "\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write(note);
  ASSERT_NE(host.read_until("OK\r\n").find("+QFUPL:"), std::string::npos);

  const auto v1 = running_firmware(daemon.state());
  ASSERT_FALSE(v1.images.empty());
  const auto v2 = next_version(v1, v1.version + "X");
  vmodem::testing::TempDir files;
  std::filesystem::create_directories(files.path() / "fw");
  std::ofstream(files.path() / "fw" / "up.bin", std::ios::binary) << package(v1, v2);
  HttpServer server(files.path());
  if (!server.unavailable().empty()) GTEST_SKIP() << server.unavailable();

  // Up, over HTTP.
  ASSERT_EQ(host.command("AT+QFOTADL=\"HTTP://127.0.0.1:" + std::to_string(server.port()) +
                         "/fw/up.bin\""),
            "\r\nOK\r\n");
  const auto downloaded = host.read_until("\"HTTPEND\",0\r\n", 10000ms);
  ASSERT_NE(downloaded.find("+QIND: \"FOTA\",\"HTTPSTART\"\r\n\r\n+QIND: \"FOTA\",\"HTTPEND\",0"),
            std::string::npos)
      << downloaded;
  auto updated = follow_update(daemon, host);
  expect_version(*updated, v2.version);
  EXPECT_EQ(updated->command("AT+QFLST=\"keep.txt\""),
            "\r\n+QFLST: \"keep.txt\"," + std::to_string(note.size()) + "\r\n\r\nOK\r\n");

  // Down again, from a package uploaded to UFS.
  const std::string back = package(v2, v1);
  updated->write("AT+QFUPL=\"back.bin\"," + std::to_string(back.size()) + "\r");
  ASSERT_NE(updated->read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  updated->write(back);
  ASSERT_NE(updated->read_until("OK\r\n", 10000ms).find("+QFUPL:"), std::string::npos);
  ASSERT_EQ(updated->command("AT+QFOTADL=\"UFS:back.bin\""), "\r\nOK\r\n");
  auto downgraded = follow_update(daemon, *updated);
  expect_version(*downgraded, v1.version);
  EXPECT_NE(downgraded->command("AT+QFLST=\"keep.txt\"").find("keep.txt"), std::string::npos);
}

}  // namespace
}  // namespace vmodem::e2e
