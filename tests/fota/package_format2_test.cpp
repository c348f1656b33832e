// Package format 2 (the compact container): its size, format 1 beside it,
// and hostile fields refused with the right error class.
#include <vmodem/fota/delta.hpp>
#include <vmodem/fota/package.hpp>

#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

GeneratorOptions format(std::uint16_t version) {
  auto options = fast_options();
  options.format_version = version;
  return options;
}

struct Update {
  FirmwareBundle old_fw = single(random_bytes(3000, 31), "v1.22.1");
  FirmwareBundle new_fw = [this] {
    auto fw = old_fw;
    fw.version = "v1.22.2";
    fw.images[0].data[77] ^= 0x5A;
    return fw;
  }();
};

std::uint64_t patch_total(const PackageHeader& h) {
  std::uint64_t total = 0;
  for (const auto& image : h.images)
    total += image.patch_length;
  return total;
}

// Everything but the patch: magic + version + flags 10, four string
// lengths (model, source version, shared prefix, target rest) 4, image
// count 1, kind 1, empty name (it is "firmware") 1, two SHA-256 64, check 8
// = 89 bytes, plus the size varints and the strings' bytes.
TEST(PackageFormat2, OneImageOverheadIs89BytesPlusVarintsAndStrings) {
  const Update u;
  const Bytes package = make_or_die(u.old_fw, u.new_fw, format(kFormatVersion2));
  auto h = parse_package(package);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->format_version, kFormatVersion2);
  const std::size_t varints = 2 + 2;       // 3000 and 3000
  const std::size_t strings = 10 + 7 + 1;  // "TEST-MODEL", "v1.22.1", "2"
  EXPECT_EQ(package.size() - patch_total(*h), 89 + varints + strings);
  EXPECT_LE(package.size() - patch_total(*h) - strings, 96u);
}

TEST(PackageFormat2, FormatOneStillParsesAppliesAndDescribes) {
  const Update u;
  const Bytes v1 = make_or_die(u.old_fw, u.new_fw, format(kFormatVersion1));
  const Bytes v2 = make_or_die(u.old_fw, u.new_fw, format(kFormatVersion2));
  auto h1 = parse_package(v1);
  auto h2 = parse_package(v2);
  ASSERT_TRUE(h1 && h2);
  EXPECT_EQ(h1->format_version, kFormatVersion1);
  EXPECT_EQ(to_json(*h1)["format_version"], 1);
  EXPECT_EQ(to_json(*h2)["format_version"], 2);
  // The same update either way; format 2 derives what format 1 stores.
  EXPECT_EQ(h1->source_firmware_digest, h2->source_firmware_digest);
  EXPECT_EQ(h1->target_firmware_digest, h2->target_firmware_digest);
  EXPECT_EQ(h1->target_version, h2->target_version);
  ASSERT_EQ(h1->images.size(), 1u);
  EXPECT_EQ(h1->images[0].target_digest, h2->images[0].target_digest);
  // Format 2's patch may be smaller (short stored frames), never larger.
  EXPECT_LE(patch_total(*h2), patch_total(*h1));
  EXPECT_GE(v1.size(), v2.size() + 170) << "format 1 stores three more digests and wide fields";
  for (const Bytes* package : {&v1, &v2}) {
    auto applied = apply_in_memory(*package, u.old_fw);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_EQ(applied->images[0].data, u.new_fw.images[0].data);
  }
}

TEST(PackageFormat2, PackageIdIsTheSha256OfEverythingBeforeTheCheck) {
  const Update u;
  const Bytes package = make_or_die(u.old_fw, u.new_fw);
  auto h = parse_package(package);
  ASSERT_TRUE(h);
  const auto before = std::span(package).first(package.size() - kPackageCheckBytes);
  EXPECT_EQ(h->package_id, sha256(before));
  EXPECT_TRUE(std::equal(package.end() - kPackageCheckBytes, package.end(), h->package_id.begin()));
}

TEST(PackageFormat2, TargetVersionIsStoredAsTheRestAfterTheSharedPrefix) {
  const std::pair<std::string, std::string> cases[] = {
      {"v1.22.1", "v1.22.2"},
      {"abc", ""},
      {"", "x"},
      {"1.0", "1.0.1"},
      {"1.0.1", "1.0"},
      {"same", "same"},
      {std::string(64, 'a'), std::string(64, 'b')}};
  for (const auto& [from, to] : cases) {
    auto old_fw = single(random_bytes(500, 32), from);
    auto new_fw = old_fw;
    new_fw.version = to;
    new_fw.images[0].data[3] ^= 1;
    auto h = parse_package(make_or_die(old_fw, new_fw));
    ASSERT_TRUE(h) << from << " -> " << to;
    EXPECT_EQ(h->source_version, from);
    EXPECT_EQ(h->target_version, to);
  }
}

TEST(PackageFormat2, ImagesKeepTheirNamesAndOrder) {
  FirmwareBundle old_fw{"M", "1", {{"firmware", random_bytes(400, 33)}, {"gone", {1, 2, 3}}}};
  FirmwareBundle new_fw{"M", "2", {{"boot", {9, 9}}, {"firmware", old_fw.images[0].data}}};
  new_fw.images[1].data[5] ^= 0xFF;
  const Bytes package = make_or_die(old_fw, new_fw);
  auto h = parse_package(package);
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->images.size(), 3u);
  EXPECT_EQ(h->images[0].name, "boot");
  EXPECT_EQ(h->images[1].name, "firmware");
  EXPECT_EQ(h->images[2].name, "gone");
  EXPECT_FALSE(h->images[2].has_target);
  auto applied = apply_in_memory(package, old_fw);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(firmware_digest(*applied), firmware_digest(new_fw));
}

TEST(PackageFormat2, SerializeNeedsPatchesBackToBack) {
  PackageHeader h;
  h.format_version = kFormatVersion2;
  PackageImage image;
  image.name = "a";
  image.has_target = true;
  image.target_size = 1;
  image.algorithm = PatchAlgorithm::kBsdiff;
  image.patch_offset = 1;  // a gap before it
  image.patch_length = 2;
  h.images.push_back(image);
  const Bytes payload(3, 0);
  auto bytes = serialize_package(h, payload);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, ErrorCode::kInvalidInput);
  h.format_version = kFormatVersion1;  // format 1 can say where a patch is
  EXPECT_TRUE(serialize_package(h, payload));
}

// A hand-made two-image package with known offsets (parsed, not applied):
//   10 model "M" | 12 source "1" | 14 shared 0 | 15 rest "2" | 17 count
//   18 kind a | 19 name "a" | 21 size, 22 digest | 54 size, 55 digest | 87 patch length
//   88 kind b | 89 name "b" | 91 size, 92 digest | 124 payload (5) | 129 check
Bytes two_image_package() {
  PackageHeader h;
  h.format_version = kFormatVersion2;
  h.model = "M";
  h.source_version = "1";
  h.target_version = "2";
  PackageImage a;
  a.name = "a";
  a.has_source = a.has_target = true;
  a.source_size = a.target_size = 3;
  a.algorithm = PatchAlgorithm::kBsdiff;
  a.patch_length = 2;
  PackageImage b = a;
  b.name = "b";
  b.has_source = false;
  b.source_size = 0;
  b.patch_offset = 2;
  b.patch_length = 3;
  h.images = {a, b};
  auto bytes = serialize_package(h, Bytes(5, 0xEE));
  EXPECT_TRUE(bytes);
  return bytes ? *bytes : Bytes{};
}

TEST(PackageFormat2, HostileFieldsAreRefused) {
  const Bytes base = two_image_package();
  ASSERT_EQ(base.size(), 137u);
  ASSERT_EQ(base[20], 'a');
  ASSERT_EQ(base[90], 'b');
  auto h = parse_package(base);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->images[1].patch_offset, 2u);
  EXPECT_EQ(h->images[1].patch_length, 3u);
  struct Mutation {
    const char* what;
    std::size_t at;
    std::uint8_t value;
    ErrorCode code;
  };
  const Mutation mutations[] = {
      {"no images", 17, 0, ErrorCode::kBadPackage},
      {"65 images", 17, 65, ErrorCode::kBadPackage},
      {"model of 65 bytes", 10, 65, ErrorCode::kBadPackage},
      {"model past the header", 10, 200, ErrorCode::kBadPackage},
      {"shared prefix longer than the source version", 14, 2, ErrorCode::kBadPackage},
      {"reserved kind bits", 18, 0x13 | 0x04, ErrorCode::kUnsupported},
      {"algorithm 15", 18, 0xF3, ErrorCode::kUnsupported},
      {"target without patch", 18, 0x03, ErrorCode::kBadPackage},
      {"duplicate name", 90, 'a', ErrorCode::kBadPackage},
      {"invalid name", 90, '/', ErrorCode::kBadPackage},
      {"first patch past the payload", 87, 6, ErrorCode::kBadPackage},
      {"source size beyond limits", 21, 0xFF, ErrorCode::kBadPackage},
  };
  for (const auto& m : mutations) {
    Bytes bytes = base;
    bytes[m.at] = m.value;
    reseal(bytes);
    auto parsed = parse_package(bytes);
    ASSERT_FALSE(parsed) << m.what;
    EXPECT_EQ(parsed.error().code, m.code) << m.what << ": " << parsed.error().message;
    bytes = base;
    bytes[m.at] = m.value;  // unsealed: the check refuses it first
    auto unsealed = parse_package(bytes);
    ASSERT_FALSE(unsealed) << m.what;
    EXPECT_EQ(unsealed.error().code, ErrorCode::kBadPackage) << m.what;
  }
}

TEST(PackageFormat2, OverlongVarintAndUnusedPayloadAreRefused) {
  const Bytes base = two_image_package();
  Bytes overlong(base.begin(), base.begin() + 21);
  overlong.insert(overlong.end(), 11, 0x80);  // an 11-byte varint
  overlong.insert(overlong.end(), base.begin() + 22, base.end());
  reseal(overlong);
  auto parsed = parse_package(overlong);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kBadPackage);

  // The last image is removed (no patch): a byte after the patches is no one's.
  FirmwareBundle old_fw{"M", "1", {{"a", random_bytes(300, 34)}, {"z", {1}}}};
  FirmwareBundle new_fw{"M", "2", {{"a", old_fw.images[0].data}}};
  Bytes package = make_or_die(old_fw, new_fw);
  ASSERT_TRUE(parse_package(package));
  package.insert(package.end() - kPackageCheckBytes, 0x00);
  reseal(package);
  auto padded = parse_package(package);
  ASSERT_FALSE(padded);
  EXPECT_EQ(padded.error().code, ErrorCode::kBadPackage);
  EXPECT_NE(padded.error().message.find("no image uses"), std::string::npos)
      << padded.error().message;
}

}  // namespace
}  // namespace vmodem::fota::testing
