// Factory content: deterministic generation, install, critical-file checks,
// host tree import.
#include <fstream>

#include <vmodem/fs/factory.hpp>

#include "fs_fixture.hpp"

namespace vmodem::fs::testing {
namespace {

TEST(Factory, DeterministicAndSized) {
  const auto modem = generate_modem_factory(1);
  const auto ap = generate_ap_factory(1);
  EXPECT_EQ(modem.size(), generate_modem_factory(1).size());
  EXPECT_EQ(modem[0].data, generate_modem_factory(1)[0].data);
  EXPECT_NE(modem[0].data, generate_modem_factory(2)[0].data);
  const auto total = total_bytes(modem) + total_bytes(ap);
  std::printf("factory content: modem %llu B in %zu files, ap %llu B in %zu files\n",
              static_cast<unsigned long long>(total_bytes(modem)), modem.size(),
              static_cast<unsigned long long>(total_bytes(ap)), ap.size());
  EXPECT_GT(total, 200000u);
  EXPECT_LT(total, 800000u);
}

TEST(Factory, InstallAndCheckCritical) {
  Rig rig(64);
  rig.format();
  auto& fs = rig.mount();
  const auto files = generate_modem_factory(7);
  ASSERT_TRUE(install(fs, files));
  const auto critical = critical_list(files);
  EXPECT_TRUE(fs.check({critical, true}).ok());
  rig.fs.reset();
  MountOptions options;
  options.checks.critical = critical;
  auto& again = rig.mount(options);
  EXPECT_EQ(*again.read_file(files[3].path), files[3].data);
  ASSERT_TRUE(again.unlink(files[0].path));
  auto report = again.check({critical, false});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first()->probe, Probe::critical_missing);
  auto sums = checksum_files(again, {files[1].path});
  ASSERT_TRUE(sums);
  EXPECT_EQ((*sums)[0].crc32, critical[1].crc32);
}

TEST(Factory, PopulateFromHostTree) {
  const auto dir = std::filesystem::temp_directory_path() / "vmodem-fs-factory-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a" / "b");
  std::ofstream(dir / "top.txt") << "top";
  std::ofstream(dir / "a" / "b" / "deep.bin") << "deep";
  Rig rig;
  rig.format();
  auto& fs = rig.mount();
  ASSERT_TRUE(populate_from_host(fs, dir));
  EXPECT_EQ(*fs.read_file("/a/b/deep.bin"), text("deep"));
  EXPECT_EQ(*fs.read_file("/top.txt"), text("top"));
  EXPECT_EQ(populate_from_host(fs, dir / "missing").error().code, Errc::io_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vmodem::fs::testing
