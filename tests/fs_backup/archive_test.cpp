// The backup image is one zlib stream built from separately compressed
// segments: whatever was cached before, the same tree gives the same bytes;
// plain zlib (as older vmodem versions read it) decodes it; and the tree comes
// back exactly, including after one file changed.
#include <random>

#include <gtest/gtest.h>
#include <zlib.h>

#include "backup_archive.hpp"

namespace vmodem::fs::backup_detail {
namespace {

ArchiveEntry file(std::string path, std::vector<std::uint8_t> data, std::uint32_t mode = 0644) {
  return {FileType::file, mode, std::move(path), std::move(data)};
}

std::vector<std::uint8_t> text(const std::string& s) {
  return {s.begin(), s.end()};
}

Archive sample_tree(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> noise(40'000);
  for (auto& b : noise)
    b = static_cast<std::uint8_t>(rng());
  Archive a;
  a.entries.push_back({FileType::directory, 0755, "/cfg", {}});
  a.entries.push_back(file("/cfg/apn.conf", text("apn=internet\nuser=\npass=\n")));
  a.entries.push_back(file("/cfg/empty", {}));
  a.entries.push_back(file("/cal.bin", noise));
  a.entries.push_back(file("/log.txt", text(std::string(5000, 'x') + "end\n")));
  return a;
}

bool same_tree(const Archive& a, const Archive& b) {
  if (a.entries.size() != b.entries.size()) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const auto &x = a.entries[i], &y = b.entries[i];
    if (x.type != y.type || x.mode != y.mode || x.path != y.path || x.data != y.data) return false;
  }
  return true;
}

// What an image holds, read with nothing but zlib's one-call API.
std::vector<std::uint8_t> inflate_plain(const std::vector<std::uint8_t>& image) {
  const std::uint32_t raw_len = image[0] | image[1] << 8 | image[2] << 16 | image[3] << 24;
  std::vector<std::uint8_t> raw(raw_len);
  uLongf out_len = raw_len;
  EXPECT_EQ(uncompress(raw.data(), &out_len, image.data() + 4, image.size() - 4), Z_OK);
  EXPECT_EQ(out_len, raw_len);
  return raw;
}

TEST(BackupArchive, TheSameTreeGivesTheSameBytesWhateverWasCachedBefore) {
  const Archive tree = sample_tree(1);
  auto first = encode_image(tree, 6);  // cold for these entries
  ASSERT_TRUE(first);
  (void)encode_image(sample_tree(2), 6);  // other content under the same paths
  auto again = encode_image(tree, 6);
  ASSERT_TRUE(again);
  EXPECT_EQ(*first, *again);
}

TEST(BackupArchive, PlainZlibReadsTheImageAndItsChecksumsHold) {
  const Archive tree = sample_tree(3);
  auto image = encode_image(tree, 6);
  ASSERT_TRUE(image);
  const auto raw = inflate_plain(*image);  // checks the Adler-32 too
  ASSERT_GE(raw.size(), 16u);
  const std::uint32_t stored = raw[raw.size() - 4] | raw[raw.size() - 3] << 8 |
                               raw[raw.size() - 2] << 16 | raw[raw.size() - 1] << 24;
  EXPECT_EQ(stored, crc32(std::span(raw).first(raw.size() - 4)));
}

TEST(BackupArchive, AChangedFileComesBackChangedAndTheRestUnchanged) {
  Archive tree = sample_tree(4);
  ASSERT_TRUE(encode_image(tree, 6));
  tree.entries[1].data = text("apn=iot.example\n");
  tree.entries[3].mode = 0600;
  tree.entries.push_back(file("/new", text("added after the first backup")));
  for (int level : {0, 1, 6, 9}) {
    auto image = encode_image(tree, level);
    ASSERT_TRUE(image);
    auto back = decode_image(*image);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(same_tree(*back, tree)) << "level " << level;
  }
}

TEST(BackupArchive, ADamagedImageIsRefused) {
  auto image = encode_image(sample_tree(5), 6);
  ASSERT_TRUE(image);
  (*image)[image->size() / 2] ^= 0x10;
  auto back = decode_image(*image);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, Errc::corrupt);
}

}  // namespace
}  // namespace vmodem::fs::backup_detail
