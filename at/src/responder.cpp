#include <vmodem/at/responder.hpp>

#include "engine_core.hpp"
#include "ticket.hpp"

namespace vmodem::at {

namespace {

// The engine if `ticket` still names its running command, else nullptr.
detail::EngineCore* live_engine(const std::shared_ptr<detail::Ticket>& ticket) {
  if (!ticket || ticket->abandoned) return nullptr;
  detail::EngineCore* engine = ticket->engine();
  return (engine != nullptr && engine->is_current(ticket->id)) ? engine : nullptr;
}

}  // namespace

bool Responder::active() const noexcept {
  return live_engine(ticket_) != nullptr;
}

bool Responder::info(std::string_view line) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->respond_info(ticket_->id, line);
}

bool Responder::write_raw(std::span<const std::uint8_t> bytes) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->respond_raw(ticket_->id, bytes);
}

bool Responder::write_raw(std::string_view bytes) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());  // NOLINT
  return write_raw(std::span<const std::uint8_t>(data, bytes.size()));
}

bool Responder::ok() {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->complete(ticket_->id, std::nullopt);
}

bool Responder::fail(Failure failure) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->complete(ticket_->id, failure);
}

void Responder::abandon() {
  if (ticket_) ticket_->abandoned = true;
  ticket_.reset();
}

bool Responder::start_upload(UploadSpec spec) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->start_upload(ticket_->id, std::move(spec));
}

bool Responder::start_download(DownloadSpec spec) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->start_download(ticket_->id, std::move(spec));
}

OnlineLink Responder::go_online(OnlineSpec spec) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr ? engine->go_online(ticket_->id, std::move(spec)) : OnlineLink{};
}

bool Responder::resume_online() {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->resume_online(ticket_->id);
}

bool Responder::start_mux(const CmuxParams& params) {
  auto* engine = live_engine(ticket_);
  return engine != nullptr && engine->start_mux(ticket_->id, params);
}

std::optional<CmuxParams> Responder::mux_params() const {
  const auto* engine = live_engine(ticket_);
  return engine != nullptr ? engine->mux_params() : std::nullopt;
}

bool OnlineLink::online() const noexcept {
  const auto* engine = ticket_ ? ticket_->engine() : nullptr;
  return engine != nullptr && engine->link_online(ticket_->id);
}

bool OnlineLink::linked() const noexcept {
  const auto* engine = ticket_ ? ticket_->engine() : nullptr;
  return engine != nullptr && engine->link_linked(ticket_->id);
}

std::size_t OnlineLink::write(std::span<const std::uint8_t> bytes) {
  auto* engine = ticket_ ? ticket_->engine() : nullptr;
  return engine != nullptr ? engine->link_write(ticket_->id, bytes) : 0;
}

bool OnlineLink::has_room() const noexcept {
  const auto* engine = ticket_ ? ticket_->engine() : nullptr;
  return engine != nullptr && engine->link_has_room(ticket_->id);
}

void OnlineLink::hold_input(bool hold) {
  if (auto* engine = ticket_ ? ticket_->engine() : nullptr)
    engine->link_hold_input(ticket_->id, hold);
}

void OnlineLink::hang_up() {
  if (auto* engine = ticket_ ? ticket_->engine() : nullptr) engine->link_hang_up(ticket_->id);
  ticket_.reset();
}

}  // namespace vmodem::at
