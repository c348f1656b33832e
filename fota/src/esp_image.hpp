// Recognises ESP8266 firmware images and lists their loaded segments, so the
// generator can offer reference projection (reference_projection.hpp).
// Only the generator looks inside images; the region tables it finds travel
// in the patch, so the applier never parses firmware.
#pragma once

#include <vector>

#include "byte_io.hpp"
#include "reference_projection.hpp"

namespace vmodem::fota::detail {

// Segment layouts worth trying for `image`, most likely first; empty if the
// image is not an ESP8266 image. Several layouts come back when the file
// does not say where flash is mapped (a user1 vs. user2 OTA slot).
std::vector<std::vector<AddressRegion>> esp8266_layouts(ByteView image);

}  // namespace vmodem::fota::detail
