// The two package containers behind parse_package() / serialize_package()
// (package.hpp; byte layouts in fota/FORMAT.md), and what they share.
#pragma once

#include <vector>

#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"

namespace vmodem::fota::detail {

// Image entry flags, both formats.
inline constexpr std::uint8_t kHasSource = 1, kHasTarget = 2;
inline constexpr std::size_t kMagicAndVersion = 10;  // magic, then u16 (v1) or u8 u8 (v2)

// The limits every image entry obeys, in either format: a valid name, sizes
// within kMaxImageBytes, presence flags consistent with sizes and algorithm,
// the patch inside a payload of `payload_length` bytes. kBadPackage.
Status check_image(const PackageImage& image, std::uint64_t payload_length);

// Refuses a second image of the same name (kBadPackage).
Status check_unique_name(const std::vector<PackageImage>& images, const std::string& name);

// Refuses strings and image counts serialisation cannot hold (kInvalidInput).
Status check_serializable(const PackageHeader& header, ByteView payload);

// A 32-byte digest from the reader (zeros, and the reader failed, if short).
Digest read_digest(Reader& r);

// Format 1 and format 2: `package` has the magic; the format byte chose the
// parser. They verify the package's digests before trusting other fields.
Result<PackageHeader> parse_package_v1(ByteView package);
Result<PackageHeader> parse_package_v2(ByteView package);
Result<Bytes> serialize_package_v1(PackageHeader header, ByteView payload);
Result<Bytes> serialize_package_v2(PackageHeader header, ByteView payload);

// Recomputes the digests of a (mutated) package of either format, so tests
// and fuzzers can get past the checksums to the deeper checks. Leaves
// packages whose layout fields make no sense as they are.
void reseal_package(Bytes& package);
void reseal_package_v1(Bytes& package);
void reseal_package_v2(Bytes& package);

}  // namespace vmodem::fota::detail
