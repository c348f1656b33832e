// A 27.010 multiplexer session: DLC 0 control, DLCs 1..4 as AT channels
// (see cmux.hpp).

#include <algorithm>
#include <utility>

#include <vmodem/at/cmux.hpp>

namespace vmodem::at {

namespace {

// A channel's unread host bytes above this stop the decoder (the engine is
// busy with a command; the host's frames back up in the kernel).
constexpr std::size_t kInboxBound = 4096;
// Wire bytes decoded between two looks at the bounds.
constexpr std::size_t kDecodeStep = 512;

std::uint8_t address_byte(unsigned dlci) {
  return static_cast<std::uint8_t>(cmux::kEa | cmux::kCr | ((dlci & 0x3FU) << 2U));
}

}  // namespace

CmuxSession::CmuxSession(const Registry& registry, const CmuxParams& params, EngineConfig channel)
    : registry_(registry),
      params_(params),
      channel_config_(std::move(channel)),
      decoder_(static_cast<std::size_t>(std::max(params.n1, 1))) {
  channel_config_.on_mux = {};
  channel_config_.mux = params_;
}

CmuxSession::~CmuxSession() {
  for (auto& channel : channels_) {
    if (channel.engine) channel.engine->set_wake({});
  }
}

std::size_t CmuxSession::feed(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (used < bytes.size() && !closed_ && !input_full() && !output_full()) {
    const auto step = bytes.subspan(used, std::min(kDecodeStep, bytes.size() - used));
    used += decoder_.feed(step, [this](cmux::Frame&& frame) { return on_frame(std::move(frame)); });
    feed_channels();
  }
  pump();
  return used;
}

std::span<const std::uint8_t> CmuxSession::pending_output() const noexcept {
  return std::span<const std::uint8_t>(out_).subspan(out_head_);
}

void CmuxSession::consume_output(std::size_t count) {
  out_head_ += std::min(count, out_.size() - out_head_);
  if (out_head_ == out_.size()) {
    out_.clear();
    out_head_ = 0;
  } else if (out_head_ > 4096 && out_head_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
    out_head_ = 0;
  }
  pump();
}

void CmuxSession::pump() {
  feed_channels();
  if (stopped_ || closed_) return;
  const auto n1 = static_cast<std::size_t>(std::max(params_.n1, 1));
  bool progress = true;
  while (progress && !output_full()) {
    progress = false;
    for (unsigned step = 0; step < kMaxDlc && !output_full(); ++step) {
      const unsigned dlci = next_pump_;
      next_pump_ = next_pump_ % kMaxDlc + 1;
      Channel& channel = channels_.at(dlci);
      if (!channel.engine || channel.peer_stopped) continue;
      const auto pending = channel.engine->pending_output();
      if (pending.empty()) continue;
      const auto chunk = pending.first(std::min(pending.size(), n1));
      cmux::Frame frame{.dlci = static_cast<std::uint8_t>(dlci),
                        .cr = false,
                        .type = cmux::FrameType::kUih,
                        .pf = false,
                        .info = {chunk.begin(), chunk.end()}};
      channel.engine->consume_output(chunk.size());
      send(std::move(frame));
      progress = true;
    }
  }
}

void CmuxSession::queue_urc(std::string_view line) {
  Engine* target = channel(1);
  for (unsigned dlci = 2; target == nullptr && dlci <= kMaxDlc; ++dlci)
    target = channel(dlci);
  if (target != nullptr) {
    // Not pumped here: a handler on a channel may be the caller.
    target->queue_urc(line);
  } else {
    if (channel_config_.urc_queue_limit == 0) return;
    if (urcs_.size() >= channel_config_.urc_queue_limit) urcs_.pop_front();
    urcs_.emplace_back(line);
  }
  if (wake_) wake_();
}

void CmuxSession::poll() {
  for (auto& channel : channels_) {
    if (channel.engine) channel.engine->poll();
  }
  pump();
}

std::optional<Clock::time_point> CmuxSession::next_deadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& channel : channels_) {
    if (!channel.engine) continue;
    const auto deadline = channel.engine->next_deadline();
    if (deadline && (!next || *deadline < *next)) next = deadline;
  }
  return next;
}

bool CmuxSession::wants_input() const noexcept {
  return !closed_ && !input_full() && !output_full();
}

Engine* CmuxSession::channel(unsigned dlci) noexcept {
  if (dlci == 0 || dlci > kMaxDlc) return nullptr;
  return channels_.at(dlci).engine.get();
}

CmuxStats CmuxSession::stats() const noexcept {
  CmuxStats stats = stats_;
  stats.decoder = decoder_.stats();
  return stats;
}

bool CmuxSession::on_frame(cmux::Frame&& frame) {
  const unsigned dlci = frame.dlci;
  switch (frame.type) {
    case cmux::FrameType::kSabm:
      if (dlci == 0) {
        control_open_ = true;
        reply(0, cmux::FrameType::kUa, frame.pf);
      } else if (dlci <= kMaxDlc && control_open_) {
        open_channel(dlci, frame.pf);
      } else {
        reply(frame.dlci, cmux::FrameType::kDm, frame.pf);
      }
      break;
    case cmux::FrameType::kDisc:
      if (dlci == 0 && control_open_) {
        reply(0, cmux::FrameType::kUa, frame.pf);
        close_down();
      } else if (channel(dlci) != nullptr) {
        reply(frame.dlci, cmux::FrameType::kUa, frame.pf);
        Channel& closing = channels_.at(dlci);
        closing.engine->set_wake({});
        closing.engine.reset();
        closing.inbox.clear();
        closing.peer_stopped = false;
      } else {
        reply(frame.dlci, cmux::FrameType::kDm, frame.pf);
      }
      break;
    case cmux::FrameType::kUih:
    case cmux::FrameType::kUi:
      if (dlci == 0 && control_open_) {
        on_control(frame);
      } else if (channel(dlci) != nullptr) {
        auto& inbox = channels_.at(dlci).inbox;
        inbox.insert(inbox.end(), frame.info.begin(), frame.info.end());
      } else {
        ++stats_.dropped_closed_dlc;
      }
      break;
    case cmux::FrameType::kUa:
    case cmux::FrameType::kDm:
      break;  // answers to commands the module does not send
  }
  return !closed_;
}

void CmuxSession::on_control(const cmux::Frame& frame) {
  const auto info = std::span<const std::uint8_t>(frame.info);
  std::size_t at = 0;
  while (at < info.size() && !closed_) {
    // Type: one or more octets, the last with EA set.
    const std::size_t type_start = at;
    while (at < info.size() && (info[at] & cmux::kEa) == 0)
      ++at;
    if (at == info.size()) return;  // cut short
    ++at;
    const auto type = info.subspan(type_start, at - type_start);
    // Length: EA-terminated, 7 bits per octet, low first.
    std::size_t length = 0;
    unsigned shift = 0;
    bool complete = false;
    while (at < info.size() && shift < 21) {
      const std::uint8_t octet = info[at++];
      length |= static_cast<std::size_t>(octet >> 1U) << shift;
      shift += 7;
      if ((octet & cmux::kEa) != 0) {
        complete = true;
        break;
      }
    }
    if (!complete || length > info.size() - at) return;  // malformed: ignore the rest
    const auto value = info.subspan(at, length);
    at += length;
    if (type.size() != 1) {
      ++stats_.unsupported;
      send_control(cmux::msg::kNsc, false, type);
      continue;
    }
    on_control_message(type.front(), value);
  }
}

void CmuxSession::on_control_message(std::uint8_t type, std::span<const std::uint8_t> value) {
  if ((type & cmux::kCr) == 0) return;  // a response to a command of ours
  const auto code = static_cast<std::uint8_t>(type & ~cmux::kCr);
  switch (code) {
    case cmux::msg::kMsc:
      if (value.size() >= 2) {
        const unsigned dlci = value[0] >> 2U;
        if (dlci >= 1 && dlci <= kMaxDlc)
          channels_.at(dlci).peer_stopped = (value[1] & cmux::v24::kFc) != 0;
      }
      send_control(code, false, value);
      return;
    case cmux::msg::kTest:
    case cmux::msg::kPsc:
      send_control(code, false, value);
      return;
    case cmux::msg::kFcOn:
    case cmux::msg::kFcOff:
      stopped_ = code == cmux::msg::kFcOff;
      send_control(code, false, value);
      return;
    case cmux::msg::kPn:
      if (value.size() >= 8) {
        std::vector<std::uint8_t> accepted(value.begin(), value.begin() + 8);
        accepted[0] &= 0x3F;  // DLCI
        accepted[1] = 0;      // UIH frames, convergence layer type 1
        const int asked = accepted[4] | (accepted[5] << 8);
        const int n1 = std::clamp(asked, 1, params_.n1);
        accepted[4] = static_cast<std::uint8_t>(n1 & 0xFF);
        accepted[5] = static_cast<std::uint8_t>(n1 >> 8);
        accepted[7] = 0;  // k: basic option has no window
        send_control(code, false, accepted);
        return;
      }
      break;
    case cmux::msg::kCld:
      send_control(code, false, {});
      close_down();
      return;
    default:
      break;
  }
  ++stats_.unsupported;
  const std::uint8_t rejected = type;
  send_control(cmux::msg::kNsc, false, std::span<const std::uint8_t>(&rejected, 1));
}

void CmuxSession::open_channel(unsigned dlci, bool pf) {
  reply(dlci, cmux::FrameType::kUa, pf);
  Channel& channel = channels_.at(dlci);
  if (channel.engine) return;  // SABM again on an open DLC: just UA
  channel.engine = std::make_unique<Engine>(registry_, channel_config_);
  channel.engine->set_wake([this] {
    if (wake_) wake_();
  });
  channel.peer_stopped = false;
  // The module's modem status for the new channel: ready, data valid.
  const std::uint8_t status[] = {address_byte(dlci),
                                 cmux::kEa | cmux::v24::kRtc | cmux::v24::kRtr | cmux::v24::kDv};
  send_control(cmux::msg::kMsc, true, status);
  deliver_urcs();
}

void CmuxSession::close_down() {
  closed_ = true;
  for (auto& channel : channels_) {
    if (channel.engine) channel.engine->set_wake({});
    channel.engine.reset();
    channel.inbox.clear();
  }
  urcs_.clear();
}

// The answer to a SABM or DISC: UA or DM, with the command's P bit as F.
void CmuxSession::reply(unsigned dlci, cmux::FrameType type, bool pf) {
  send({.dlci = static_cast<std::uint8_t>(dlci), .cr = true, .type = type, .pf = pf, .info = {}});
}

void CmuxSession::send(cmux::Frame frame) {
  cmux::encode(frame, out_);
  ++stats_.frames_out;
}

void CmuxSession::send_control(std::uint8_t type, bool command,
                               std::span<const std::uint8_t> value) {
  cmux::Frame frame{.dlci = 0, .cr = false, .type = cmux::FrameType::kUih, .pf = false, .info = {}};
  frame.info.push_back(static_cast<std::uint8_t>(type | (command ? cmux::kCr : 0)));
  // Values here are short (echoes of host messages cut to N1): one or two
  // length octets.
  const std::size_t length = std::min<std::size_t>(value.size(), 0x3FFF);
  if (length <= 0x7F) {
    frame.info.push_back(static_cast<std::uint8_t>((length << 1U) | cmux::kEa));
  } else {
    frame.info.push_back(static_cast<std::uint8_t>((length & 0x7FU) << 1U));
    frame.info.push_back(static_cast<std::uint8_t>(((length >> 7U) << 1U) | cmux::kEa));
  }
  frame.info.insert(frame.info.end(), value.begin(),
                    value.begin() + static_cast<std::ptrdiff_t>(length));
  send(std::move(frame));
}

void CmuxSession::feed_channels() {
  for (auto& channel : channels_) {
    if (!channel.engine || channel.inbox.empty()) continue;
    const std::size_t used = channel.engine->feed(channel.inbox);
    channel.inbox.erase(channel.inbox.begin(),
                        channel.inbox.begin() + static_cast<std::ptrdiff_t>(used));
  }
}

bool CmuxSession::input_full() const noexcept {
  return std::any_of(channels_.begin(), channels_.end(),
                     [](const Channel& channel) { return channel.inbox.size() >= kInboxBound; });
}

bool CmuxSession::output_full() const noexcept {
  return out_.size() - out_head_ >= channel_config_.output_bound;
}

void CmuxSession::deliver_urcs() {
  Engine* target = channel(1);
  for (unsigned dlci = 2; target == nullptr && dlci <= kMaxDlc; ++dlci)
    target = channel(dlci);
  if (target == nullptr) return;
  while (!urcs_.empty()) {
    target->queue_urc(urcs_.front());
    urcs_.pop_front();
  }
}

}  // namespace vmodem::at
