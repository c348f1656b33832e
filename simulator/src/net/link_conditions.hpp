// What the module's radio link does to packets, as the control socket sets
// it (`vmodem ctl network`): latency, a bandwidth cap and UDP loss, so hosts
// can test their timeouts and retry paths. The default is a perfect link.
//
// DelayLine is one direction of one socket through that link: a chunk
// leaves once the link has carried it (its size at the bandwidth, after the
// chunks before it) plus the latency; order is kept and chunks in flight
// overlap, so latency alone does not cap throughput.
//
// Thread: the io_context's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace vmodem::sim::net {

struct LinkConditions {
  std::chrono::milliseconds latency{0};  // one way, added in each direction
  std::uint64_t bandwidth_bps = 0;       // bits per second in each direction; 0: no cap
  double udp_loss = 0.0;                 // chance each datagram is lost, each direction, 0-1

  // True when chunks must wait (latency or a cap); loss needs no delay.
  bool delays() const { return latency.count() > 0 || bandwidth_bps > 0; }
  friend bool operator==(const LinkConditions&, const LinkConditions&) = default;
};

// A piece of a stream or one datagram, with its UDP peer where it matters.
struct Chunk {
  std::vector<std::uint8_t> bytes;
  std::optional<boost::asio::ip::udp::endpoint> peer;
};

class DelayLine {
 public:
  // `arrive` gets each chunk when it is due, in order.
  DelayLine(boost::asio::io_context& io, std::function<void(Chunk)> arrive);
  ~DelayLine();
  DelayLine(const DelayLine&) = delete;
  DelayLine& operator=(const DelayLine&) = delete;

  // Sends `chunk` into the line under `conditions`.
  void push(Chunk chunk, const LinkConditions& conditions);
  // Bytes in the line, not yet arrived.
  std::size_t bytes_in_flight() const { return bytes_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct InFlight {
    Clock::time_point due;
    Chunk chunk;
  };
  void arm();
  void on_timer();

  boost::asio::steady_timer timer_;
  std::function<void(Chunk)> arrive_;
  std::deque<InFlight> queue_;
  std::size_t bytes_ = 0;
  Clock::time_point wire_free_{};  // when the link has carried what is queued
  bool armed_ = false;
  // False once destroyed; what a pending wait or a running arrival checks.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmodem::sim::net
