// make -> apply -> byte-identical, on synthetic edge cases and the corpus.
#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

void expect_round_trip(const Bytes& old_data, const Bytes& new_data,
                       const GeneratorOptions& options = fast_options()) {
  const auto old_fw = single(old_data, "old");
  const auto new_fw = single(new_data, "new");
  const Bytes package = make_or_die(old_fw, new_fw, options);
  ASSERT_FALSE(package.empty());
  auto result = apply_in_memory(package, old_fw);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->images.size(), 1u);
  EXPECT_EQ(result->images[0].data, new_data);
}

TEST(RoundTrip, EmptyOldAndEmptyNew) {
  expect_round_trip({}, {});
}
TEST(RoundTrip, EmptyOld) {
  expect_round_trip({}, random_bytes(5000, 1));
}
TEST(RoundTrip, EmptyNew) {
  expect_round_trip(random_bytes(5000, 2), {});
}
TEST(RoundTrip, OneByteEach) {
  expect_round_trip({0x42}, {0x43});
}

TEST(RoundTrip, IdenticalImagesGiveATinyPackage) {
  const Bytes data = random_bytes(100'000, 3);
  expect_round_trip(data, data);
  const Bytes package = make_or_die(single(data, "a"), single(data, "b"));
  EXPECT_LT(package.size(), 1000u);
}

TEST(RoundTrip, InsertionsDeletionsAndEdits) {
  Bytes old_data = random_bytes(200'000, 4);
  Bytes new_data = old_data;
  new_data.erase(new_data.begin() + 1000, new_data.begin() + 3000);
  const Bytes inserted = random_bytes(777, 5);
  new_data.insert(new_data.begin() + 50'000, inserted.begin(), inserted.end());
  for (std::size_t i = 60'000; i < 150'000; i += 97)
    new_data[i] ^= 0x5A;
  expect_round_trip(old_data, new_data);
}

TEST(RoundTrip, RandomUnrelatedData) {
  expect_round_trip(random_bytes(30'000, 6), random_bytes(40'000, 7));
}

TEST(RoundTrip, ThoroughOptionsOnSyntheticData) {
  Bytes old_data = random_bytes(50'000, 8);
  Bytes new_data = old_data;
  new_data.insert(new_data.begin() + 10, 5, 0xEE);
  GeneratorOptions thorough;
  expect_round_trip(old_data, new_data, thorough);
}

TEST(RoundTrip, ChunkSizesDoNotChangeTheResult) {
  const auto old_fw = single(random_bytes(20'000, 9), "a");
  Bytes new_data = old_fw.images[0].data;
  for (std::size_t i = 0; i < new_data.size(); i += 1000)
    new_data[i] = 0;
  const auto new_fw = single(new_data, "b");
  const Bytes package = make_or_die(old_fw, new_fw);
  for (std::size_t chunk : {1u, 7u, 512u, 2048u, 100'000u}) {
    ApplyOptions options;
    options.chunk_size = chunk;
    auto result = apply_in_memory(package, old_fw, options);
    ASSERT_TRUE(result) << "chunk " << chunk << ": " << result.error().message;
    EXPECT_EQ(result->images[0].data, new_data) << "chunk " << chunk;
  }
}

TEST(RoundTrip, MultiImageBundleWithAddedAndRemovedImages) {
  FirmwareBundle old_fw{"TEST-MODEL", "A", {}};
  old_fw.images.push_back({"boot", random_bytes(4096, 10)});
  old_fw.images.push_back({"modem", random_bytes(60'000, 11)});
  old_fw.images.push_back({"legacy", random_bytes(1000, 12)});
  FirmwareBundle new_fw{"TEST-MODEL", "B", {}};
  new_fw.images.push_back({"modem", old_fw.images[1].data});
  new_fw.images[0].data[100] ^= 1;
  new_fw.images.push_back({"boot", old_fw.images[0].data});
  new_fw.images.push_back({"extra-app", random_bytes(3000, 13)});
  const Bytes package = make_or_die(old_fw, new_fw);
  auto result = apply_in_memory(package, old_fw);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->images.size(), 3u);
  for (const auto& image : new_fw.images) {
    const auto* produced = result->find(image.name);
    ASSERT_NE(produced, nullptr) << image.name;
    EXPECT_EQ(produced->data, image.data) << image.name;
  }
  EXPECT_EQ(result->find("legacy"), nullptr);
  EXPECT_EQ(firmware_digest(*result), firmware_digest(new_fw));
}

// Quick tier: the smallest corpus pair both ways (the full tier does every
// pair, see corpus_full_test.cpp).
TEST(CorpusRoundTrip, Quick_1_7_4_and_1_7_5_BothWays) {
  FOTA_REQUIRE_CORPUS(a, "1.7.4");
  FOTA_REQUIRE_CORPUS(b, "1.7.5");
  expect_round_trip(a, b);
  expect_round_trip(b, a);
}

}  // namespace
}  // namespace vmodem::fota::testing
