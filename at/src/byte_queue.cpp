#include "byte_queue.hpp"

#include <algorithm>

namespace vmodem::at::detail {

namespace {
// Compacting moves the live bytes; doing it only when the dead prefix is both
// large and the majority keeps the cost amortised O(1) per byte.
constexpr std::size_t kCompactThreshold = 4096;
}  // namespace

void ByteQueue::consume(std::size_t count) noexcept {
  head_ += std::min(count, size());
  if (head_ == bytes_.size()) {
    clear();
  } else if (head_ >= kCompactThreshold && head_ * 2 >= bytes_.size()) {
    bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace vmodem::at::detail
