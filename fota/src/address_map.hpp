// The alignment a bsdiff control program defines, seen as a map from old
// CPU addresses to new CPU addresses. Shared by every reference projection
// (reference_projection.hpp): an instruction or pointer found in old is
// re-targeted by asking where its source and its target went.
#pragma once

#include <cstdint>
#include <optional>
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

class AddressMap {
 public:
  // `program` must be valid for `old` (it reads only inside old). A byte
  // used by several matches keeps the first, so generator and applier agree
  // without any tie-break data.
  AddressMap(ByteView old, std::span<const ControlEntry> program,
             std::span<const AddressRegion> old_regions,
             std::span<const AddressRegion> new_regions);

  // The new CPU address of what old had at CPU address `address`, if that
  // address is mapped in old and its byte was matched into new.
  std::optional<std::uint32_t> project(std::uint32_t address) const;

 private:
  std::span<const AddressRegion> old_regions_, new_regions_;
  std::vector<std::int64_t> new_offset_of_old_;
};

// Little-endian loads and stores at byte offset `p` (caller checks bounds).
inline std::uint32_t load_le(ByteView b, std::size_t p, int width) {
  std::uint32_t v = 0;
  for (int i = 0; i < width; ++i)
    v |= std::uint32_t{b[p + i]} << (8 * i);
  return v;
}
inline void store_le(Bytes& b, std::size_t p, int width, std::uint32_t v) {
  for (int i = 0; i < width; ++i)
    b[p + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace vmodem::fota::detail
