#include "engine_core.hpp"

#include <algorithm>
#include <utility>

#include "ticket.hpp"

namespace vmodem::at::detail {

EngineCore::EngineCore(const Registry& registry, EngineConfig config)
    : registry_(registry), config_(std::move(config)), settings_(config_.defaults) {}

EngineCore::~EngineCore() {
  // Tickets destroyed below (inside handler callbacks) must not call back.
  alive_.reset();
  ++epoch_;
  pending_ = false;
}

EngineCore::Entry::~Entry() {
  if (--core_.depth_ != 0) return;
  // Destroying callbacks may drop the last Responder copy, which calls
  // abandon() and re-enters; move them out first so that is safe.
  auto uploads = std::move(core_.retired_uploads_);
  auto downloads = std::move(core_.retired_downloads_);
  auto links = std::move(core_.retired_links_);
  core_.retired_uploads_.clear();
  core_.retired_downloads_.clear();
  core_.retired_links_.clear();
  uploads.clear();
  downloads.clear();
  links.clear();
  if (core_.wake_) core_.wake_();
}

std::size_t EngineCore::feed(std::span<const std::uint8_t> bytes) {
  Entry entry(*this);
  std::size_t used = 0;
  while (used < bytes.size()) {
    if (muxed_ || mode_ == EngineMode::kExecuting) break;
    if (mode_ == EngineMode::kOnline && online_hold_) break;
    if (mode_ != EngineMode::kDownload && output_full()) break;
    const auto rest = bytes.subspan(used);
    switch (mode_) {
      case EngineMode::kCommand:
        ++stats_.bytes_in;
        if (!drop_padding(rest.front())) on_command_byte(rest.front());
        ++used;
        break;
      case EngineMode::kUpload: {
        const std::size_t taken = on_upload_bytes(rest);
        stats_.bytes_in += taken;
        used += taken;
        break;
      }
      case EngineMode::kOnline: {
        const std::size_t taken = on_online_bytes(rest);
        stats_.bytes_in += taken;
        used += taken;
        break;
      }
      case EngineMode::kDownload:
        // The host has nothing to say during a download; like a module, drop it.
        stats_.bytes_in += rest.size();
        stats_.bytes_discarded += rest.size();
        used = bytes.size();
        break;
      case EngineMode::kExecuting:
        break;
    }
  }
  return used;
}

void EngineCore::consume_output(std::size_t count) {
  Entry entry(*this);
  const std::size_t taken = std::min(count, out_.size());
  out_.consume(count);
  if (connect_unsent_ > 0) {
    connect_unsent_ -= std::min(taken, connect_unsent_);
    // CONNECT is out: from now on the host may send data, LF first or not.
    if (connect_unsent_ == 0) after_s3_ = false;
  }
  pump_download();
  if (mode_ == EngineMode::kOnline && online_wants_room_ && !output_full()) {
    online_wants_room_ = false;
    const std::shared_ptr<OnlineSpec> spec = link_;
    if (spec && spec->on_writable) spec->on_writable();
  }
  flush_urcs();
}

void EngineCore::queue_urc(std::string_view line) {
  Entry entry(*this);
  if (config_.urc_queue_limit == 0) {
    ++stats_.urcs_dropped;
    return;
  }
  if (urcs_.size() >= config_.urc_queue_limit) {
    // The newest news is worth more than the oldest (a later +CREG supersedes).
    urcs_.pop_front();
    ++stats_.urcs_dropped;
  }
  urcs_.emplace_back(line);
  flush_urcs();
}

void EngineCore::poll() {
  Entry entry(*this);
  if (mode_ == EngineMode::kOnline) {
    poll_online(config_.now());
    return;
  }
  if (mode_ != EngineMode::kUpload || config_.now() < upload_deadline_) return;
  finish_upload(UploadEnd::kTimeout);
}

std::optional<Clock::time_point> EngineCore::next_deadline() const {
  if (mode_ == EngineMode::kOnline) return online_deadline();
  if (mode_ != EngineMode::kUpload) return std::nullopt;
  return upload_deadline_;
}

bool EngineCore::wants_input() const noexcept {
  if (muxed_) return false;
  switch (mode_) {
    case EngineMode::kExecuting:
      return false;
    case EngineMode::kDownload:
      return true;
    case EngineMode::kOnline:
      return !online_hold_ && !output_full();
    case EngineMode::kCommand:
    case EngineMode::kUpload:
      return !output_full();
  }
  return false;
}

void EngineCore::reset() {
  Entry entry(*this);
  ++epoch_;
  ++command_id_;  // every Responder handed out so far is now stale
  pending_ = false;
  abort_data_mode();
  mode_ = EngineMode::kCommand;
  chain_.clear();
  next_command_ = 0;
  failure_.reset();
  block_open_ = false;
  line_.clear();
  line_overflow_ = false;
  after_s3_ = false;
  last_line_.clear();
  out_.clear();
  urcs_.clear();
  settings_ = config_.defaults;
  mux_request_.reset();
  muxed_ = false;
  // Last: the link hears of it on a port already back at power-on.
  if (link_id_ != 0) detach_link();
}

bool EngineCore::start_mux(std::uint64_t id, const CmuxParams& params) {
  Entry entry(*this);
  if (!is_current(id) || !config_.on_mux || mode_ != EngineMode::kExecuting) return false;
  mux_request_ = params;
  return true;
}

void EngineCore::end_mux() {
  Entry entry(*this);
  if (!muxed_) return;
  muxed_ = false;
  flush_urcs();
}

void EngineCore::abandon(std::uint64_t id) {
  if (!is_current(id)) return;
  complete(id, Failure::error());
}

Ticket::~Ticket() {
  if (abandoned) return;
  if (EngineCore* engine_core = engine()) engine_core->abandon(id);
}

}  // namespace vmodem::at::detail
