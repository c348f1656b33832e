// Which reference projections the generator tries for an old/new image pair:
// the architecture the user named (or every one we can detect), each with
// the region tables that would travel in the patch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"
#include "reference_projection.hpp"

namespace vmodem::fota::detail {

struct ProjectionLayout {
  PatchAlgorithm algorithm = PatchAlgorithm::kBsdiffXtensa;
  std::vector<AddressRegion> old_regions, new_regions;
};

// The ISA a projecting patch algorithm rewrites; nothing for plain bsdiff.
std::optional<Isa> projection_isa(PatchAlgorithm algorithm);

// Layouts worth a candidate for old -> new, most likely first. kAuto offers
// every detected one; kNone none; kXtensa / kThumb2 / kAarch64 only that
// ISA's. For Thumb-2, `load_address` (if given) replaces vector-table
// detection, so an image with a header or without a vector table can still
// be projected; for AArch64 it places the region (pointers project too).
// Every layout passes regions_fit() for its image.
std::vector<ProjectionLayout> projection_layouts(ByteView old, ByteView new_image,
                                                 Architecture architecture,
                                                 std::optional<std::uint32_t> load_address);

}  // namespace vmodem::fota::detail
