// Reference projection for firmware (Xtensa ESP8266 and ARM Thumb-2
// Cortex-M): the idea of Chrome's Courgette/Zucchini, reduced to what a
// bsdiff alignment already gives us.
//
// When code moves between versions, every relative call/branch offset,
// PC-relative literal load and pointer whose source and target moved by
// *different* amounts changes, and a plain byte diff pays for each of them. The bsdiff control
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

#include "address_map.hpp"
#include "byte_io.hpp"
#include "matcher.hpp"

namespace vmodem::fota::detail {

inline constexpr std::size_t kMaxRegions = 16;

// The instruction sets we can project. Each is a patch algorithm of its own
// (package.hpp), because the applier must redo the identical rewrite.
enum class Isa : std::uint8_t {
  kXtensa,   // CALL0, L32R in 0x401xxxxx/0x402xxxxx code, aligned pointers
  kThumb2,   // BL, B.W, B<c>.W, B, B<c>, CBZ, LDR literal, ADR, aligned pointers
  kAarch64,  // B, BL, B.cond, CBZ, TBZ, LDR literal, ADR, ADRP pairs, aligned pointers
};

// True if every region lies inside an image of `image_size` bytes.
bool regions_fit(std::span<const AddressRegion> regions, std::uint64_t image_size);

// Returns a copy of `old` with its `isa` references re-targeted through the
// alignment `program` (old -> new). `old_regions` describe old, and
// `new_regions` the new image the program produces. `program` must be valid
// for `old` (parse_image_patch() checks it).
Bytes project_references(Isa isa, ByteView old, std::span<const ControlEntry> program,
                         std::span<const AddressRegion> old_regions,
                         std::span<const AddressRegion> new_regions);

// The ISA-independent half: every 4-byte-aligned word of `old`'s regions that
// holds a mapped address is rewritten in `out` (literal pools, vectors,
// function-pointer tables, data pointers; a Thumb bit rides along because
// the map is byte-wise).
void project_pointers(const AddressMap& map, std::span<const AddressRegion> regions, ByteView old,
                      Bytes& out);

// The Thumb-2 half (thumb2_projection.cpp): a linear instruction sweep over
// every region, rewriting PC-relative branches and literal references in `out`.
void project_thumb2_code(const AddressMap& map, std::span<const AddressRegion> regions,
                         ByteView old, Bytes& out);

// The AArch64 half (aarch64_projection.cpp): every aligned word of the
// word-aligned regions read as an A64 instruction, PC-relative branches,
// literal loads, ADR and ADRP + ADD/load/store pairs rewritten in `out`.
void project_aarch64_code(const AddressMap& map, std::span<const AddressRegion> regions,
                          ByteView old, Bytes& out);

}  // namespace vmodem::fota::detail
