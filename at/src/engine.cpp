#include <string>

#include <vmodem/at/engine.hpp>

#include "engine_core.hpp"

namespace vmodem::at {

Engine::Engine(const Registry& registry, EngineConfig config)
    : core_(std::make_unique<detail::EngineCore>(registry, std::move(config))) {}

Engine::~Engine() = default;

std::size_t Engine::feed(std::span<const std::uint8_t> bytes) {
  return core_->feed(bytes);
}

std::size_t Engine::feed(std::string_view bytes) {
  // Byte-for-byte the same storage; only the element type differs.
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());  // NOLINT
  return core_->feed(std::span<const std::uint8_t>(data, bytes.size()));
}

std::span<const std::uint8_t> Engine::pending_output() const noexcept {
  return core_->pending_output();
}

void Engine::consume_output(std::size_t count) {
  core_->consume_output(count);
}

std::string Engine::take_output() {
  const auto bytes = core_->pending_output();
  std::string text(bytes.begin(), bytes.end());
  core_->consume_output(bytes.size());
  return text;
}

void Engine::queue_urc(std::string_view line) {
  core_->queue_urc(line);
}
void Engine::poll() {
  core_->poll();
}
std::optional<Clock::time_point> Engine::next_deadline() const {
  return core_->next_deadline();
}
bool Engine::wants_input() const noexcept {
  return core_->wants_input();
}
EngineMode Engine::mode() const noexcept {
  return core_->mode();
}
void Engine::host_gone() {
  core_->host_gone();
}
bool Engine::muxed() const noexcept {
  return core_->muxed();
}
void Engine::end_mux() {
  core_->end_mux();
}
void Engine::reset() {
  core_->reset();
}
const PortSettings& Engine::settings() const noexcept {
  return core_->settings();
}
PortSettings& Engine::settings() noexcept {
  return core_->settings();
}
EngineStats Engine::stats() const noexcept {
  return core_->stats();
}
void Engine::set_wake(std::function<void()> wake) {
  core_->set_wake(std::move(wake));
}

}  // namespace vmodem::at
