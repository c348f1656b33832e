#pragma once

// The host side of 27.010 in tests: frames to send, frames received.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/at/cmux_frame.hpp>

namespace vmodem::at::testing {

inline std::string bytes_of(const std::vector<std::uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

inline std::span<const std::uint8_t> span_of(std::string_view text) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(text.data());  // NOLINT
  return {data, text.size()};
}

// A frame from the host (the initiator: commands carry C/R = 1).
inline std::string host_frame(cmux::FrameType type, std::uint8_t dlci, std::string_view info = {},
                              bool pf = true) {
  cmux::Frame frame{
      .dlci = dlci, .cr = true, .type = type, .pf = pf, .info = {info.begin(), info.end()}};
  return bytes_of(cmux::encode(frame));
}

inline std::string sabm(std::uint8_t dlci) {
  return host_frame(cmux::FrameType::kSabm, dlci);
}
inline std::string disc(std::uint8_t dlci) {
  return host_frame(cmux::FrameType::kDisc, dlci);
}
inline std::string uih(std::uint8_t dlci, std::string_view info) {
  return host_frame(cmux::FrameType::kUih, dlci, info, false);
}
// A control message command on DLC 0: type (C/R set), length, value.
inline std::string control(std::uint8_t type, std::string_view value) {
  std::string info;
  info.push_back(static_cast<char>(type | cmux::kCr));
  info.push_back(static_cast<char>((value.size() << 1U) | cmux::kEa));
  info.append(value);
  return uih(0, info);
}

// Everything the module sent, decoded.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_info = 32767) : decoder_(max_info) {}

  std::vector<cmux::Frame> read(std::string_view bytes) {
    std::vector<cmux::Frame> frames;
    decoder_.feed(span_of(bytes), [&](cmux::Frame&& frame) {
      frames.push_back(std::move(frame));
      return true;
    });
    return frames;
  }

  const cmux::Decoder& decoder() const { return decoder_; }

 private:
  cmux::Decoder decoder_;
};

// The UIH payload for `dlci` among `frames`, concatenated.
inline std::string payload(const std::vector<cmux::Frame>& frames, std::uint8_t dlci) {
  std::string text;
  for (const auto& frame : frames) {
    if (frame.dlci == dlci && frame.type == cmux::FrameType::kUih)
      text.append(frame.info.begin(), frame.info.end());
  }
  return text;
}

}  // namespace vmodem::at::testing
