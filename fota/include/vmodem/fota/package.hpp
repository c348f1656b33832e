// The delta package container (format version 1). fota/FORMAT.md is the
// normative description; in short, all integers little-endian:
//
//   offset  size  field
//   0       8     magic "VMFOTA\r\n"
//   8       2     format version (1)
//   10      2     flags (must be 0)
//   12      4     header length H (includes the trailing header digest)
//   16      8     payload length P (package size is exactly H + P)
//   24      ...   str model | str source version | str target version
//                 (str = u16 length <= 64, then the bytes)
//           32    source firmware digest      (see firmware_digest())
//           32    target firmware digest
//           2     image count N (1..64)
//           N x   str name | u8 flags (1 = has source, 2 = has target)
//                 | u64 source size | 32 source SHA-256
//                 | u64 target size | 32 target SHA-256
//                 | u8 patch algorithm | u64 patch offset | u64 patch length
//           32    payload SHA-256
//   H-32    32    header SHA-256 over bytes [0, H-32)
//   H       P     payload: the per-image patches at their offsets
//
// Every length is checked against the bytes actually present and against
// the limits below before anything is allocated or written.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>

namespace vmodem::fota {

using ByteView = std::span<const std::uint8_t>;

inline constexpr std::array<std::uint8_t, 8> kPackageMagic = {'V', 'M', 'F',  'O',
                                                              'T', 'A', '\r', '\n'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kMaxStringBytes = 64;
inline constexpr std::size_t kMaxImages = 64;
// No modem image comes near this; anything larger is a corrupt field.
inline constexpr std::uint64_t kMaxImageBytes = 128ull << 20;
inline constexpr std::uint64_t kMaxHeaderBytes = 64 * 1024;

// Patch algorithms of an image entry.
enum class PatchAlgorithm : std::uint8_t {
  kNone = 0,          // image removed by the update: no target, no patch
  kBsdiff = 1,        // suffix-array matcher, control/diff/extra streams
  kBsdiffXtensa = 2,  // the same over a reference-projected source (Xtensa)
  kBsdiffThumb2 = 3,  // the same, projecting ARM Thumb-2 references (Cortex-M)
};

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
  Digest source_firmware_digest{};
  Digest target_firmware_digest{};
  std::vector<PackageImage> images;
  // Filled in by parse_package() / serialize_package():
  Digest payload_digest{};
  Digest header_digest{};  // identifies the whole package (it covers payload_digest)
  std::uint64_t header_length = 0;
  std::uint64_t payload_length = 0;
};

// Parses and fully verifies a package held in memory: magic, version,
// lengths, limits, header digest, payload digest, patch ranges.
// Errors: kBadPackage (corrupt/truncated/inconsistent), kUnsupported (a
// newer format version, unknown flags or algorithm).
Result<PackageHeader> parse_package(ByteView package);

// The patch bytes of `image` inside a package parse_package() accepted.
ByteView patch_bytes(ByteView package, const PackageHeader& header, const PackageImage& image);

// Serialises `header` (its digests and lengths are recomputed) followed by
// `payload`. Fails with kInvalidInput if a field breaks the limits above.
Result<std::vector<std::uint8_t>> serialize_package(PackageHeader header, ByteView payload);

// True if `name` is a valid image name: 1..64 of [A-Za-z0-9._-].
bool valid_image_name(std::string_view name);

}  // namespace vmodem::fota
