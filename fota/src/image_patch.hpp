// One image's patch: the bsdiff-class streams plus, for Xtensa and Thumb-2
// firmware, the region tables that drive reference projection.
//
// Patch body (all integers little-endian):
//   [algorithms 2, 3]  u8 n, n x (u32 offset, u32 length, u32 address)  old regions
//                      u8 m, m x (u32 offset, u32 length, u32 address)  new regions
//   frame control | frame diff | frame extra                            (codec.hpp)
// control = varint triples (diff length, extra length, zig-zag old seek).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <vmodem/fota/error.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"
#include "codec.hpp"
#include "matcher.hpp"
#include "reference_projection.hpp"

namespace vmodem::fota::detail {

struct PatchEncodeOptions {
  // Match thresholds to try (matcher.hpp); each costs one matching pass.
  std::vector<int> min_gains{8, 16};
  // Reference projections to try (projection_layouts.hpp).
  Architecture architecture = Architecture::kAuto;
  std::optional<std::uint32_t> load_address;  // Thumb-2 without a vector table
  // Full codec search (slower); otherwise one good setting per stream.
  bool exhaustive_codecs = true;
  // Stored streams as kStoredShort (codec.hpp): package format 2 only.
  bool short_stored_frames = false;
};

struct PatchBreakdown {
  PatchAlgorithm algorithm = PatchAlgorithm::kBsdiff;
  int min_gain = 0;
  std::size_t control_raw = 0, diff_raw = 0, extra_raw = 0;
  std::size_t control_packed = 0, diff_packed = 0, extra_packed = 0;
};

struct EncodedPatch {
  Bytes bytes;
  PatchBreakdown breakdown;
};

// Builds the smallest patch it can find for old -> new_image.
Result<EncodedPatch> encode_image_patch(ByteView old, ByteView new_image,
                                        const PatchEncodeOptions& options);

// A parsed, validated patch. The control program is decoded eagerly (it is
// small) and checked against the image sizes, so a hostile program is
// refused before the applier writes anything.
struct ParsedPatch {
  PatchAlgorithm algorithm = PatchAlgorithm::kBsdiff;
  std::vector<AddressRegion> old_regions, new_regions;
  StreamFrame diff, extra;
  std::vector<ControlEntry> program;
};

// Parses `patch` for an old image of `old_size` bytes producing `new_size`.
// Errors: kBadPackage (malformed/inconsistent), kUnsupported (algorithm).
Result<ParsedPatch> parse_image_patch(std::uint8_t algorithm, ByteView patch,
                                      std::uint64_t old_size, std::uint64_t new_size);

// Streams one image's new bytes out of a parsed patch. Deterministic: a fresh
// patcher over the same inputs produces the same bytes, which is how the
// applier resumes (it replays up to the saved offset).
class ImagePatcher {
 public:
  // `old` and `patch` (whose views `parsed` holds) must outlive the patcher.
  static Result<std::unique_ptr<ImagePatcher>> start(const ParsedPatch& parsed, ByteView old);

  // Produces the next out.size() bytes of the new image.
  Status produce(std::span<std::uint8_t> out);
  std::uint64_t produced() const { return produced_; }

 private:
  ImagePatcher(const ParsedPatch& parsed, ByteView old) : parsed_(parsed), old_(old) {}

  const ParsedPatch& parsed_;
  ByteView old_;  // old, or the projected copy below
  Bytes projected_;
  std::unique_ptr<StreamDecoder> diff_, extra_;
  std::size_t entry_ = 0;
  std::uint64_t in_entry_ = 0;  // bytes of the current entry already produced
  std::int64_t old_pos_ = 0;
  std::uint64_t produced_ = 0;
};

}  // namespace vmodem::fota::detail
