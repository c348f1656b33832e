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

}  // namespace vmodem::at
