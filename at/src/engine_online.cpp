// Online data mode: raw bytes both ways between CONNECT and the host's `+++`
// escape or the connection's end (see OnlineSpec).

#include <algorithm>

#include "engine_core.hpp"
#include "ticket.hpp"

namespace vmodem::at::detail {

namespace {
// V.250's default S2. The escape is three of them.
constexpr std::uint8_t kEscapeCharacter = '+';
constexpr std::uint8_t kEscapeLength = 3;
}  // namespace

OnlineLink EngineCore::go_online(std::uint64_t id, OnlineSpec spec) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return {};
  // One link per port: a suspended one is let go (its connection goes on in
  // its own access mode).
  if (link_id_ != 0) detach_link();
  link_ = std::make_shared<OnlineSpec>(std::move(spec));
  link_id_ = ++last_link_id_;
  enter_online();
  return OnlineLink(std::make_shared<OnlineTicket>(this, alive_, link_id_));
}

bool EngineCore::resume_online(std::uint64_t id) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting || link_id_ == 0) return false;
  enter_online();
  const std::shared_ptr<OnlineSpec> spec = link_;
  if (spec->on_event) spec->on_event(OnlineEvent::kResumed);
  return true;
}

// CONNECT ends the command line: whatever follows the command on it is not
// run (V.250 §5.2.1), and no OK follows.
void EngineCore::enter_online() {
  pending_ = false;
  chain_.clear();
  next_command_ = 0;
  failure_.reset();
  enter_data_mode(EngineMode::kOnline, std::nullopt);
  // The guard before an escape counts from CONNECT.
  online_last_input_ = config_.now();
  online_pluses_ = 0;
  online_hold_ = false;
  online_wants_room_ = false;
}

void EngineCore::host_gone() {
  Entry entry(*this);
  unheard_ = true;
  if (mode_ == EngineMode::kOnline) {
    escape_online();
  } else if (mode_ == EngineMode::kUpload) {
    finish_upload(UploadEnd::kTimeout);
  }
  unheard_ = false;
  flush_urcs();
}

void EngineCore::escape_online() {
  online_pluses_ = 0;
  online_hold_ = false;
  mode_ = EngineMode::kCommand;
  emit_result(ResultCode::kOk);
  block_open_ = false;
  const std::shared_ptr<OnlineSpec> spec = link_;
  if (spec && spec->on_event) spec->on_event(OnlineEvent::kSuspended);
  flush_urcs();
}

// The link's spec is retired, not destroyed: one of its callbacks may be on
// the stack.
void EngineCore::release_link() {
  if (link_) retired_links_.push_back(std::move(link_));
  link_.reset();
  link_id_ = 0;
  online_pluses_ = 0;
  online_hold_ = false;
  online_wants_room_ = false;
  if (mode_ == EngineMode::kOnline) mode_ = EngineMode::kCommand;
}

void EngineCore::detach_link() {
  const std::shared_ptr<OnlineSpec> spec = link_;
  release_link();
  if (spec && spec->on_event) spec->on_event(OnlineEvent::kDetached);
}

void EngineCore::link_hang_up(std::uint64_t link) {
  Entry entry(*this);
  if (!link_linked(link)) return;
  const bool was_online = mode_ == EngineMode::kOnline;
  release_link();
  if (!was_online) return;
  emit_result(ResultCode::kNoCarrier);
  block_open_ = false;
  flush_urcs();
}

std::size_t EngineCore::link_write(std::uint64_t link, std::span<const std::uint8_t> bytes) {
  Entry entry(*this);
  if (!link_online(link)) return 0;
  append_output(bytes);
  if (output_full()) online_wants_room_ = true;
  return bytes.size();
}

void EngineCore::link_hold_input(std::uint64_t link, bool hold) {
  Entry entry(*this);  // releasing must wake the adapter to read again
  if (link_linked(link)) online_hold_ = hold;
}

// Every byte is data except a possible escape: a `+` after the guard of
// silence starts one, and the pluses are held back until the guard after the
// third has passed in silence (poll) or another byte shows they were data.
std::size_t EngineCore::on_online_bytes(std::span<const std::uint8_t> bytes) {
  if (swallow_terminator_lf(bytes)) return 1;
  const auto now = config_.now();
  const auto guard = config_.escape_guard;
  online_scratch_.clear();
  for (const std::uint8_t byte : bytes) {
    if (online_pluses_ > 0) {
      if (byte == kEscapeCharacter && online_pluses_ < kEscapeLength &&
          now - online_first_plus_ < guard) {
        ++online_pluses_;
        online_last_input_ = now;
        continue;
      }
      online_scratch_.insert(online_scratch_.end(), online_pluses_, kEscapeCharacter);
      online_pluses_ = 0;
    }
    if (byte == kEscapeCharacter && now - online_last_input_ >= guard) {
      online_pluses_ = 1;
      online_first_plus_ = now;
    } else {
      online_scratch_.push_back(byte);
    }
    online_last_input_ = now;
  }
  if (!online_scratch_.empty()) deliver_online(online_scratch_);
  return bytes.size();
}

void EngineCore::deliver_online(std::span<const std::uint8_t> bytes) {
  stats_.data_bytes_in += bytes.size();
  // A copy: on_data may hang up, which releases link_.
  const std::shared_ptr<OnlineSpec> spec = link_;
  if (spec && spec->on_data) spec->on_data(bytes);
}

void EngineCore::poll_online(Clock::time_point now) {
  if (mode_ != EngineMode::kOnline || online_pluses_ == 0) return;
  if (online_pluses_ == kEscapeLength) {
    if (now - online_last_input_ >= config_.escape_guard) escape_online();
    return;
  }
  if (now - online_first_plus_ < config_.escape_guard) return;
  // Too slow for an escape: the pluses were data.
  const std::vector<std::uint8_t> pluses(online_pluses_, kEscapeCharacter);
  online_pluses_ = 0;
  deliver_online(pluses);
}

std::optional<Clock::time_point> EngineCore::online_deadline() const {
  if (mode_ != EngineMode::kOnline || online_pluses_ == 0) return std::nullopt;
  if (online_pluses_ == kEscapeLength) return online_last_input_ + config_.escape_guard;
  return online_first_plus_ + config_.escape_guard;
}

}  // namespace vmodem::at::detail
