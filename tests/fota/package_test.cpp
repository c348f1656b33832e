// The package container: header fields, limits, identity checks.
#include <algorithm>

#include <vmodem/fota/package.hpp>

#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

Bytes small_package(std::string model = "TEST-MODEL") {
  auto old_fw = single(random_bytes(3000, 21), "1.0", "firmware", std::move(model));
  auto new_fw = old_fw;
  new_fw.version = "1.1";
  new_fw.images[0].data[10] ^= 0xFF;
  return make_or_die(old_fw, new_fw);
}

TEST(Package, HeaderCarriesVersionsDigestsAndImages) {
  const auto old_fw = single(random_bytes(3000, 22), "1.0");
  auto new_fw = old_fw;
  new_fw.version = "1.1";
  new_fw.images[0].data.push_back(7);
  const Bytes package = make_or_die(old_fw, new_fw);
  auto header = parse_package(package);
  ASSERT_TRUE(header) << header.error().message;
  EXPECT_EQ(header->format_version, kFormatVersion);
  EXPECT_EQ(header->model, "TEST-MODEL");
  EXPECT_EQ(header->source_version, "1.0");
  EXPECT_EQ(header->target_version, "1.1");
  EXPECT_EQ(header->source_firmware_digest, firmware_digest(old_fw));
  EXPECT_EQ(header->target_firmware_digest, firmware_digest(new_fw));
  ASSERT_EQ(header->images.size(), 1u);
  const auto& image = header->images[0];
  EXPECT_EQ(image.name, "firmware");
  EXPECT_EQ(image.source_size, 3000u);
  EXPECT_EQ(image.target_size, 3001u);
  EXPECT_EQ(image.source_digest, sha256(old_fw.images[0].data));
  EXPECT_EQ(image.target_digest, sha256(new_fw.images[0].data));
  EXPECT_EQ(header->header_length + header->payload_length + kPackageCheckBytes, package.size());
  EXPECT_TRUE(std::equal(kPackageMagic.begin(), kPackageMagic.end(), package.begin()));
}

TEST(Package, GenerationIsDeterministic) {
  EXPECT_EQ(small_package(), small_package());
}

TEST(Package, FirmwareDigestIgnoresImageOrder) {
  FirmwareBundle a{"m", "v", {{"x", {1, 2}}, {"y", {3}}}};
  FirmwareBundle b{"m", "v", {{"y", {3}}, {"x", {1, 2}}}};
  EXPECT_EQ(firmware_digest(a), firmware_digest(b));
  b.images[0].data[0] = 4;
  EXPECT_NE(firmware_digest(a), firmware_digest(b));
}

TEST(Package, NewerFormatVersionIsUnsupported) {
  Bytes package = small_package();
  package[8] = 3;  // format version field
  reseal(package);
  auto header = parse_package(package);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(end_code(header.error().code), 504);
}

TEST(Package, NotAPackage) {
  const Bytes junk = random_bytes(500, 23);
  auto header = parse_package(junk);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, ErrorCode::kBadPackage);
  EXPECT_EQ(end_code(header.error().code), 505);
  EXPECT_FALSE(parse_package({}));
}

TEST(Package, SerializeRefusesFieldsBeyondLimits) {
  PackageHeader header;
  header.model = std::string(65, 'm');
  PackageImage image;
  image.name = "firmware";
  header.images.push_back(image);
  auto bytes = serialize_package(header, {});
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, ErrorCode::kInvalidInput);
}

TEST(Package, ImageNames) {
  EXPECT_TRUE(valid_image_name("modem.bin"));
  EXPECT_TRUE(valid_image_name("a-b_c.1"));
  EXPECT_FALSE(valid_image_name(""));
  EXPECT_FALSE(valid_image_name("../etc/passwd"));
  EXPECT_FALSE(valid_image_name("a b"));
  EXPECT_FALSE(valid_image_name(std::string(65, 'a')));
}

TEST(Package, ErrorCodesMapOntoModuleEndCodes) {
  EXPECT_EQ(end_code(ErrorCode::kUnpackFailed), 501);
  EXPECT_EQ(end_code(ErrorCode::kAborted), 502);
  EXPECT_EQ(end_code(ErrorCode::kUnsupported), 504);
  EXPECT_EQ(end_code(ErrorCode::kBadPackage), 505);
  EXPECT_EQ(end_code(ErrorCode::kFirmwareMismatch), 510);
  EXPECT_EQ(end_code(ErrorCode::kNoSpace), 511);
  EXPECT_EQ(error_code_name(ErrorCode::kNoSpace), "no-space");
}

}  // namespace
}  // namespace vmodem::fota::testing
