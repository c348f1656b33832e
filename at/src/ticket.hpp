#pragma once

// The shared state behind every copy of one Responder.

#include <cstdint>
#include <memory>
#include <utility>

namespace vmodem::at::detail {

class EngineCore;

struct Ticket {
  Ticket(EngineCore* engine, std::weak_ptr<void> engine_alive, std::uint64_t command_id)
      : core(engine), alive(std::move(engine_alive)), id(command_id) {}
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  // The last copy is gone: if the command never answered (and was not
  // abandoned), the engine answers ERROR for it.
  ~Ticket();

  // The engine if it still exists, else nullptr.
  EngineCore* engine() const noexcept { return alive.expired() ? nullptr : core; }

  EngineCore* core;
  std::weak_ptr<void> alive;
  std::uint64_t id;
  bool abandoned = false;  // Responder::abandon(): answer nothing, ever
};

// The shared state behind every copy of one OnlineLink.
struct OnlineTicket {
  OnlineTicket(EngineCore* engine, std::weak_ptr<void> engine_alive, std::uint64_t link_id)
      : core(engine), alive(std::move(engine_alive)), id(link_id) {}

  // The engine if it still exists, else nullptr.
  EngineCore* engine() const noexcept { return alive.expired() ? nullptr : core; }

  EngineCore* core;
  std::weak_ptr<void> alive;
  std::uint64_t id;
};

}  // namespace vmodem::at::detail
