// The one-file firmware bundle (`vmodem firmware build`).
#include <fstream>
#include <iterator>

#include <sys/stat.h>

#include "temp_dir.hpp"
#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

FirmwareBundle two_images() {
  FirmwareBundle b;
  b.model = "BG95-M3";
  b.version = "BG95M3LAR02A04";
  b.images.push_back({"boot", random_bytes(5000, 1)});
  b.images.push_back({"modem", random_bytes(12345, 2)});
  return b;
}

TEST(BundleFile, RoundTripsThroughAFileAndLoadBundle) {
  const auto bundle = two_images();
  vmodem::testing::TempDir dir;
  const auto bytes = serialize_bundle(bundle);
  ASSERT_TRUE(write_file_atomic(dir / "fw.bundle", bytes));
  auto loaded = load_bundle(dir / "fw.bundle");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->model, bundle.model);
  EXPECT_EQ(loaded->version, bundle.version);
  ASSERT_EQ(loaded->images.size(), 2u);
  EXPECT_EQ(loaded->images[1].name, "modem");
  EXPECT_EQ(loaded->images[1].data, bundle.images[1].data);
  EXPECT_EQ(firmware_digest(*loaded), firmware_digest(bundle));
}

// Output files replace only a regular file, through a temporary name of
// their own: a FIFO, a directory or a symlink at the path is refused and
// left alone, and a user's file beside it named like a temporary survives.
TEST(BundleFile, AtomicWritesReplaceOnlyRegularFiles) {
  vmodem::testing::TempDir dir;
  const Bytes data = random_bytes(3000, 3);
  std::ofstream(dir / "out.bin.tmp") << "mine";
  ASSERT_TRUE(write_file_atomic(dir / "out.bin", data));
  ASSERT_TRUE(write_file_atomic(dir / "out.bin", data)) << "a regular file is replaced";
  std::ifstream tmp(dir / "out.bin.tmp");
  std::string kept((std::istreambuf_iterator<char>(tmp)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "mine");

  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_FALSE(write_file_atomic(dir / "fifo", data));
  EXPECT_TRUE(std::filesystem::is_fifo(dir / "fifo"));
  std::filesystem::create_directory(dir / "d");
  EXPECT_FALSE(write_file_atomic(dir / "d", data));
  std::filesystem::create_symlink(dir / "out.bin", dir / "link");
  EXPECT_FALSE(write_file_atomic(dir / "link", data));
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link"));
  std::size_t leftovers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    leftovers += entry.path().filename().string().starts_with("fifo.") ||
                 entry.path().filename().string().starts_with("out.bin.");
  EXPECT_EQ(leftovers, 1U) << "only the user's out.bin.tmp; no temporary left behind";
}

TEST(BundleFile, RefusesDamageAndTruncationEverywhere) {
  const auto bytes = serialize_bundle(two_images());
  for (std::size_t at = 0; at < bytes.size(); at += 97) {
    Bytes bad = bytes;
    bad[at] ^= 0x01;
    EXPECT_FALSE(parse_bundle(bad)) << "flip at " << at;
  }
  for (std::size_t cut : {std::size_t{0}, std::size_t{8}, std::size_t{40}, bytes.size() - 1}) {
    EXPECT_FALSE(parse_bundle(std::span(bytes).first(cut))) << "cut at " << cut;
  }
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(parse_bundle(longer));
}

}  // namespace
}  // namespace vmodem::fota::testing
