#include "net/link_conditions.hpp"

#include <algorithm>

namespace vmodem::sim::net {

DelayLine::DelayLine(boost::asio::io_context& io, std::function<void(Chunk)> arrive)
    : timer_(io), arrive_(std::move(arrive)) {}

void DelayLine::push(Chunk chunk, const LinkConditions& conditions) {
  const auto now = Clock::now();
  auto on_wire = std::max(now, wire_free_);
  if (conditions.bandwidth_bps > 0) {
    const auto bits = static_cast<std::uint64_t>(chunk.bytes.size()) * 8U;
    on_wire += std::chrono::microseconds(bits * 1'000'000U / conditions.bandwidth_bps);
  }
  wire_free_ = on_wire;
  bytes_ += chunk.bytes.size();
  // Never before the chunk ahead of it: a link keeps order.
  auto due = on_wire + conditions.latency;
  if (!queue_.empty()) due = std::max(due, queue_.back().due);
  queue_.push_back({due, std::move(chunk)});
  arm();
}

DelayLine::~DelayLine() {
  *alive_ = false;
}

void DelayLine::arm() {
  if (armed_ || queue_.empty()) return;
  armed_ = true;
  timer_.expires_at(queue_.front().due);
  // The line lives in its socket and is destroyed with it, which cancels the
  // wait: a wait that completes after that must not touch it.
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) return;
    armed_ = false;
    on_timer();
  });
}

void DelayLine::on_timer() {
  const auto alive = alive_;
  const auto now = Clock::now();
  while (!queue_.empty() && queue_.front().due <= now) {
    Chunk chunk = std::move(queue_.front().chunk);
    queue_.pop_front();
    bytes_ -= chunk.bytes.size();
    // The arrival may close the socket, which destroys this line (and the
    // callback itself: call a copy).
    const auto arrive = arrive_;
    arrive(std::move(chunk));
    if (!*alive) return;
  }
  arm();
}

}  // namespace vmodem::sim::net
