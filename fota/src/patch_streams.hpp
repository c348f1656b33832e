// The three raw (uncompressed) streams of a bsdiff-class patch, kept apart
// because they compress very differently:
//   control - varint triples (diff length, extra length, zig-zag old seek)
//   diff    - new minus old, byte-wise, over the approximate matches
//   extra   - literal new bytes that matched nothing
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "byte_io.hpp"
#include "matcher.hpp"

namespace vmodem::fota::detail {

struct RawStreams {
  Bytes control;
  Bytes diff;
  Bytes extra;
};

// Serialises `program` into raw streams for old -> new_image.
RawStreams build_streams(ByteView old, ByteView new_image, std::span<const ControlEntry> program);

}  // namespace vmodem::fota::detail
