// Reference projection for Xtensa (ESP8266) firmware: the idea of Chrome's
// Courgette/Zucchini, reduced to what a bsdiff alignment already gives us.
//
// When code moves between versions, every CALL0 offset, L32R offset and
// literal-pool pointer whose source and target moved by *different* amounts
// changes, and a plain byte diff pays for each of them. The bsdiff control
// program is an alignment: it says where each matched old byte lands in the
// new image. Using it, we rewrite each reference found in old so that it
// points where its target went ("projected old"). The patch then stores
// new - projected_old, which is zero wherever the projection was right.
//
// The applier can do the same rewrite because it has old, the control
// program and the two region tables (stored in the patch), so nothing about
// the new image is needed before it is produced. Detection may misfire on
// data that looks like an instruction; that only costs diff bytes, never
// correctness, because generator and applier compute the identical bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "byte_io.hpp"
#include "matcher.hpp"

namespace vmodem::fota::detail {

// One loaded segment of an image: `length` bytes at file `offset` are mapped
// at CPU address `address`.
struct AddressRegion {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t address = 0;
  friend bool operator==(const AddressRegion&, const AddressRegion&) = default;
};

inline constexpr std::size_t kMaxRegions = 16;

// True if every region lies inside an image of `image_size` bytes.
bool regions_fit(std::span<const AddressRegion> regions, std::uint64_t image_size);

// Returns a copy of `old` with its references re-targeted through the
// alignment `program` (old -> new). `old_regions` describe old, and
// `new_regions` the new image the program produces. `program` must be valid
// for `old` (see validate_program()).
Bytes project_references(ByteView old, std::span<const ControlEntry> program,
                         std::span<const AddressRegion> old_regions,
                         std::span<const AddressRegion> new_regions);

}  // namespace vmodem::fota::detail
