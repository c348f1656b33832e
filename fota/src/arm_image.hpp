// Recognises raw ARM Cortex-M images (a .bin as objcopy writes it: the
// vector table first, no header) and says where they are loaded, so the
// generator can offer Thumb-2 reference projection (reference_projection.hpp).
// Like esp_image.hpp, only the generator looks inside images: the region
// table it chooses travels in the patch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "byte_io.hpp"
#include "reference_projection.hpp"

namespace vmodem::fota::detail {

// Load addresses worth trying for `image`, most likely first; empty if the
// image does not start with a plausible Cortex-M vector table: initial SP
// word-aligned and non-zero, reserved entries zero, reset and every non-zero
// system handler a Thumb address, and those near reset (within an image
// size; farther ones run from RAM) inside one image-sized window at a
// 128-byte-aligned base, as the VTOR requires.
std::vector<std::uint32_t> cortex_m_load_addresses(ByteView image);

// True if `image` holds A64 code: at least 4 RET instructions (d65f03c0,
// word-aligned), one per 2 KiB or more, which neither data nor Thumb code
// produce by chance.
bool looks_like_aarch64(ByteView image);

// The region table for `image` loaded at `load_address`: the whole file as
// one region (clipped at the top of the 32-bit address space).
std::vector<AddressRegion> whole_image_layout(ByteView image, std::uint32_t load_address);

}  // namespace vmodem::fota::detail
