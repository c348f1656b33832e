// The delta package container. fota/FORMAT.md is the normative
// description. Two container versions share the magic "VMFOTA\r\n":
//
//  * format 1 (read, and written on request): fixed-width header fields, a
//    SHA-256 of the payload and of the header, both firmware digests and
//    every image's digests stored;
//  * format 2 (what the generator writes): u8-length strings, LEB128 sizes,
//    patches back to back in image order, each image's source and target
//    SHA-256 stored once, the firmware digests derived from the image list,
//    and a trailing check over the whole package (the first 8 bytes of its
//    SHA-256; the full SHA-256 is the package id).
//
// Every length is checked against the bytes actually present and against
// the limits below before anything is allocated or written.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>

namespace vmodem::fota {

using ByteView = std::span<const std::uint8_t>;

inline constexpr std::array<std::uint8_t, 8> kPackageMagic = {'V', 'M', 'F',  'O',
                                                              'T', 'A', '\r', '\n'};
inline constexpr std::uint16_t kFormatVersion1 = 1;
inline constexpr std::uint16_t kFormatVersion2 = 2;
// What the generator writes unless told otherwise.
inline constexpr std::uint16_t kFormatVersion = kFormatVersion2;
// Format 2's trailing check: the first bytes of the SHA-256 of the rest.
inline constexpr std::size_t kPackageCheckBytes = 8;
// Format 2 writes this image name as an empty string.
inline constexpr std::string_view kDefaultImageName = "firmware";
inline constexpr std::size_t kMaxStringBytes = 64;
inline constexpr std::size_t kMaxImages = 64;
// No modem image comes near this; anything larger is a corrupt field.
inline constexpr std::uint64_t kMaxImageBytes = 128ull << 20;
inline constexpr std::uint64_t kMaxHeaderBytes = 64 * 1024;

// Patch algorithms of an image entry.
enum class PatchAlgorithm : std::uint8_t {
  kNone = 0,           // image removed by the update: no target, no patch
  kBsdiff = 1,         // suffix-array matcher, control/diff/extra streams
  kBsdiffXtensa = 2,   // the same over a reference-projected source (Xtensa)
  kBsdiffThumb2 = 3,   // the same, projecting ARM Thumb-2 references (Cortex-M)
  kBsdiffAarch64 = 4,  // the same, projecting AArch64 (A64) references
};
// The highest algorithm this build applies; higher ones are kUnsupported.
inline constexpr PatchAlgorithm kLastPatchAlgorithm = PatchAlgorithm::kBsdiffAarch64;

std::string_view algorithm_name(PatchAlgorithm algorithm);

struct PackageImage {
  std::string name;
  bool has_source = false;
  bool has_target = false;
  std::uint64_t source_size = 0;
  Digest source_digest{};
  std::uint64_t target_size = 0;
  Digest target_digest{};
  PatchAlgorithm algorithm = PatchAlgorithm::kNone;
  std::uint64_t patch_offset = 0;  // within the payload
  std::uint64_t patch_length = 0;
};

struct PackageHeader {
  std::uint16_t format_version = kFormatVersion;
  std::string model;
  std::string source_version;
  std::string target_version;
  // Format 1 stores these (and the applier checks them against the image
  // list); format 2 derives them from the image list when parsing.
  Digest source_firmware_digest{};
  Digest target_firmware_digest{};
  std::vector<PackageImage> images;
  // Filled in by parse_package() / serialize_package():
  Digest payload_digest{};  // format 1 only
  // Identifies the package (journal records, boot records' installed-by).
  // Format 1: the header digest (it covers the payload digest); format 2:
  // the SHA-256 of every byte before the trailing check.
  Digest package_id{};
  std::uint64_t header_length = 0;   // bytes before the payload
  std::uint64_t payload_length = 0;  // format 2: followed by the check
};

// Parses and fully verifies a package held in memory (either format):
// magic, version, the package's digests, lengths, limits, patch ranges.
// Errors: kBadPackage (corrupt/truncated/inconsistent), kUnsupported (a
// newer format version, unknown flags or algorithm).
Result<PackageHeader> parse_package(ByteView package);

// The patch bytes of `image` inside a package parse_package() accepted.
ByteView patch_bytes(ByteView package, const PackageHeader& header, const PackageImage& image);

// Serialises `header` in header.format_version's container, with
// `payload` (its digests and lengths are recomputed). Fails with
// kInvalidInput if a field breaks the limits above, or (format 2) if the
// patches are not back to back in image order covering the whole payload.
Result<std::vector<std::uint8_t>> serialize_package(PackageHeader header, ByteView payload);

// True if `name` is a valid image name: 1..64 of [A-Za-z0-9._-].
bool valid_image_name(std::string_view name);

}  // namespace vmodem::fota
