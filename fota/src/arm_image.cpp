#include "arm_image.hpp"

#include <algorithm>

namespace vmodem::fota::detail {
namespace {

// Initial SP, reset, NMI, HardFault, MemManage, BusFault, UsageFault, 4
// reserved, SVCall, DebugMonitor, reserved, PendSV, SysTick.
constexpr std::size_t kSystemVectors = 16;
constexpr std::uint32_t kVectorTableAlign = 128;
constexpr std::uint64_t kAddressSpace = 0x1'0000'0000ull;

// The handler addresses (Thumb bit cleared) of the system vectors, reset
// first, or nothing if an entry cannot be a handler. Reserved entries must
// be zero.
std::optional<std::vector<std::uint32_t>> system_handlers(ByteView image) {
  std::vector<std::uint32_t> handlers;
  for (std::size_t i = 1; i < kSystemVectors; ++i) {
    const std::uint32_t v = load_le(image, 4 * i, 4);
    const bool reserved = (i >= 7 && i <= 10) || i == 13;
    if (reserved) {
      if (v != 0) return std::nullopt;
      continue;
    }
    if (v == 0 && i != 1) continue;  // an unused handler; reset is mandatory
    if ((v & 1) == 0) return std::nullopt;
    handlers.push_back(v - 1);
  }
  return handlers;
}

// The handlers that can lie in the image: within one image size of reset.
// Others run from RAM (copied there at start-up) and say nothing about
// where the image is.
std::vector<std::uint64_t> handlers_in_flash(const std::vector<std::uint32_t>& handlers,
                                             std::uint64_t image_size) {
  const std::uint64_t reset = handlers.front();
  std::vector<std::uint64_t> out;
  for (const std::uint64_t h : handlers) {
    if (h + image_size > reset && h < reset + image_size) out.push_back(h);
  }
  return out;
}

}  // namespace

std::vector<std::uint32_t> cortex_m_load_addresses(ByteView image) {
  if (image.size() < 4 * kSystemVectors || image.size() >= kAddressSpace) return {};
  const std::uint32_t initial_sp = load_le(image, 0, 4);
  if (initial_sp == 0 || (initial_sp & 3) != 0) return {};
  const auto all_handlers = system_handlers(image);
  if (!all_handlers) return {};
  const auto handlers = handlers_in_flash(*all_handlers, image.size());
  const auto [lo_it, hi_it] = std::minmax_element(handlers.begin(), handlers.end());
  // Base b must satisfy b + 4*16 <= lowest handler and highest < b + size.
  const std::uint64_t highest = *hi_it, lowest = *lo_it;
  if (lowest < 4 * kSystemVectors) return {};
  const std::uint64_t max_base =
      (lowest - 4 * kSystemVectors) & ~std::uint64_t{kVectorTableAlign - 1};
  const std::uint64_t min_base = highest + 1 > image.size() ? highest + 1 - image.size() : 0;
  if (min_base > max_base || max_base + image.size() > kAddressSpace) return {};
  // Flash and slots start at round addresses: the most aligned base in the
  // window first, then the highest 4 KiB-aligned one (an application slot
  // after a boot loader).
  std::vector<std::uint32_t> bases;
  for (std::uint64_t align = 1ull << 31; align >= kVectorTableAlign; align >>= 1) {
    const std::uint64_t base = max_base & ~(align - 1);
    if (base >= min_base) {
      bases.push_back(static_cast<std::uint32_t>(base));
      break;
    }
  }
  const std::uint64_t slot = max_base & ~std::uint64_t{0xFFF};
  if (slot >= min_base && (bases.empty() || slot != bases.front())) {
    bases.push_back(static_cast<std::uint32_t>(slot));
  }
  return bases;
}

bool looks_like_aarch64(ByteView image) {
  constexpr std::uint32_t kRet = 0xD65F03C0;  // RET (X30)
  std::size_t rets = 0;
  for (std::size_t p = 0; p + 4 <= image.size(); p += 4)
    rets += load_le(image, p, 4) == kRet ? 1 : 0;
  return rets >= 4 && rets * 2048 >= image.size();
}

std::vector<AddressRegion> whole_image_layout(ByteView image, std::uint32_t load_address) {
  // Clipped to the 4 GiB address space, which regions_fit() insists on.
  const std::uint64_t room = kAddressSpace - load_address;
  const auto length = static_cast<std::uint32_t>(std::min<std::uint64_t>(image.size(), room));
  return {{0, length, load_address}};
}

}  // namespace vmodem::fota::detail
