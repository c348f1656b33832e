#include "patch_streams.hpp"

namespace vmodem::fota::detail {

RawStreams build_streams(ByteView old, ByteView new_image, std::span<const ControlEntry> program) {
  RawStreams out;
  std::size_t new_pos = 0;
  std::int64_t old_pos = 0;
  for (const auto& entry : program) {
    put_varint(out.control, entry.diff_length);
    put_varint(out.control, entry.extra_length);
    put_varint(out.control, zigzag(entry.old_seek));
    for (std::uint64_t i = 0; i < entry.diff_length; ++i) {
      const auto o = static_cast<std::size_t>(old_pos) + i;
      out.diff.push_back(static_cast<std::uint8_t>(new_image[new_pos + i] - old[o]));
    }
    new_pos += entry.diff_length;
    old_pos += static_cast<std::int64_t>(entry.diff_length);
    put_bytes(out.extra, new_image.subspan(new_pos, entry.extra_length));
    new_pos += entry.extra_length;
    old_pos += entry.old_seek;
  }
  return out;
}

}  // namespace vmodem::fota::detail
