// Little helpers to write and read the package's integers: fixed-width
// little-endian fields for headers (so offsets are predictable) and LEB128
// varints for streams (so small numbers cost one byte).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmodem::fota::detail {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline void put_u8(Bytes& out, std::uint8_t v) {
  out.push_back(v);
}
inline void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_bytes(Bytes& out, ByteView data) {
  out.insert(out.end(), data.begin(), data.end());
}

inline void put_varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
// Zig-zag keeps small negative seeks small.
inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Bounds-checked reader over a byte span. Every read returns nullopt once
// the data runs out, and the reader stays failed, so a parser can read a
// whole record and check ok() once.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  std::optional<std::uint64_t> fixed(int width) {
    if (!take(static_cast<std::size_t>(width))) return std::nullopt;
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i)
      v |= std::uint64_t{data_[pos_ - width + i]} << (8 * i);
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1).value_or(0)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(fixed(2).value_or(0)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4).value_or(0)); }
  std::uint64_t u64() { return fixed(8).value_or(0); }

  std::optional<std::uint64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!take(1)) return std::nullopt;
      const std::uint8_t b = data_[pos_ - 1];
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    failed_ = true;  // more than 10 bytes: not a varint we wrote
    return std::nullopt;
  }

  // A view of the next `n` bytes, or an empty view (and failure) if short.
  ByteView bytes(std::uint64_t n) {
    if (n > remaining()) {
      failed_ = true;  // as the class promises: a short read fails the reader
      return {};
    }
    if (!take(static_cast<std::size_t>(n))) return {};
    return data_.subspan(pos_ - n, n);
  }
  std::string string(std::uint64_t n) {
    auto view = bytes(n);
    return {view.begin(), view.end()};
  }

  bool ok() const { return !failed_; }
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }

 private:
  bool take(std::size_t n) {
    if (failed_ || n > data_.size() - pos_) {
      failed_ = true;
      return false;
    }
    pos_ += n;
    return true;
  }

  ByteView data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace vmodem::fota::detail
