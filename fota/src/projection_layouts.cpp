#include "projection_layouts.hpp"

#include <algorithm>

#include "arm_image.hpp"
#include "esp_image.hpp"

namespace vmodem::fota::detail {
namespace {

// ESP8266: the same slot assumption for old and new.
void add_xtensa(ByteView old, ByteView neu, std::vector<ProjectionLayout>& out) {
  const auto old_layouts = esp8266_layouts(old);
  const auto new_layouts = esp8266_layouts(neu);
  for (std::size_t i = 0; i < std::min(old_layouts.size(), new_layouts.size()); ++i) {
    out.push_back({PatchAlgorithm::kBsdiffXtensa, old_layouts[i], new_layouts[i]});
  }
}

// Cortex-M: one load address for both images (an update does not move the
// slot), detected in both unless named.
void add_thumb2(ByteView old, ByteView neu, std::optional<std::uint32_t> load_address,
                std::vector<ProjectionLayout>& out) {
  std::vector<std::uint32_t> bases;
  if (load_address) {
    bases.push_back(*load_address);
  } else {
    const auto new_bases = cortex_m_load_addresses(neu);
    for (const std::uint32_t base : cortex_m_load_addresses(old)) {
      if (std::find(new_bases.begin(), new_bases.end(), base) != new_bases.end()) {
        bases.push_back(base);
      }
    }
  }
  for (const std::uint32_t base : bases) {
    out.push_back({PatchAlgorithm::kBsdiffThumb2, whole_image_layout(old, base),
                   whole_image_layout(neu, base)});
  }
}

// AArch64: one region per image at the named load address. Without one,
// at the top of the 32-bit space, page-aligned: PC-relative references
// project the same at any page-aligned address, and few data words point
// up there, so the pointer pass stays out of the way.
void add_aarch64(ByteView old, ByteView neu, Architecture architecture,
                 std::optional<std::uint32_t> load_address, std::vector<ProjectionLayout>& out) {
  if (architecture == Architecture::kAuto && !(looks_like_aarch64(old) && looks_like_aarch64(neu)))
    return;
  const std::uint64_t span = (std::max(old.size(), neu.size()) + 0xFFF) & ~std::uint64_t{0xFFF};
  if (span == 0 || span > 0x8000'0000ull) return;
  const auto base = load_address.value_or(static_cast<std::uint32_t>(0x1'0000'0000ull - span));
  out.push_back({PatchAlgorithm::kBsdiffAarch64, whole_image_layout(old, base),
                 whole_image_layout(neu, base)});
}

}  // namespace

std::optional<Isa> projection_isa(PatchAlgorithm algorithm) {
  switch (algorithm) {
    case PatchAlgorithm::kBsdiffXtensa:
      return Isa::kXtensa;
    case PatchAlgorithm::kBsdiffThumb2:
      return Isa::kThumb2;
    case PatchAlgorithm::kBsdiffAarch64:
      return Isa::kAarch64;
    case PatchAlgorithm::kNone:
    case PatchAlgorithm::kBsdiff:
      break;
  }
  return std::nullopt;
}

std::vector<ProjectionLayout> projection_layouts(ByteView old, ByteView new_image,
                                                 Architecture architecture,
                                                 std::optional<std::uint32_t> load_address) {
  std::vector<ProjectionLayout> out;
  if (architecture == Architecture::kAuto || architecture == Architecture::kXtensa) {
    add_xtensa(old, new_image, out);
  }
  if (architecture == Architecture::kAuto || architecture == Architecture::kThumb2) {
    add_thumb2(old, new_image, load_address, out);
  }
  if (architecture == Architecture::kAuto || architecture == Architecture::kAarch64) {
    add_aarch64(old, new_image, architecture, load_address, out);
  }
  // Empty images have nothing to project, and an empty region table is
  // not worth its bytes.
  std::erase_if(out, [&](const ProjectionLayout& l) {
    return old.empty() || new_image.empty() || !regions_fit(l.old_regions, old.size()) ||
           !regions_fit(l.new_regions, new_image.size());
  });
  return out;
}

}  // namespace vmodem::fota::detail
