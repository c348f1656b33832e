#pragma once

// A FIFO of bytes that hands out one contiguous view, so an adapter can write
// it with a single system call.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vmodem::at::detail {

class ByteQueue {
 public:
  void push(std::uint8_t byte) { bytes_.push_back(byte); }
  void append(std::span<const std::uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  void append(std::string_view text) { bytes_.insert(bytes_.end(), text.begin(), text.end()); }

  std::span<const std::uint8_t> view() const noexcept {
    return std::span<const std::uint8_t>(bytes_).subspan(head_);
  }
  std::size_t size() const noexcept { return bytes_.size() - head_; }
  bool empty() const noexcept { return size() == 0; }

  // Drops up to `count` bytes from the front.
  void consume(std::size_t count) noexcept;
  void clear() noexcept {
    bytes_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t head_ = 0;  // consumed prefix, compacted lazily
};

}  // namespace vmodem::at::detail
