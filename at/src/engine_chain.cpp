// Running the commands of one line: lookup, gate, handler call, the single
// final result.

#include <exception>
#include <memory>
#include <utility>

#include "engine_core.hpp"
#include "ticket.hpp"

namespace vmodem::at::detail {

namespace {

const Handler* select_handler(const CommandSpec& spec, CommandForm form) {
  const Handler* handler = nullptr;
  switch (form) {
    case CommandForm::kExecute:
      handler = &spec.execute;
      break;
    case CommandForm::kRead:
      handler = &spec.read;
      break;
    case CommandForm::kWrite:
      handler = &spec.write;
      break;
    case CommandForm::kTest:
      handler = &spec.test;
      break;
  }
  return (handler != nullptr && *handler) ? handler : nullptr;
}

// The last line of defence between a handler's bug and the daemon: an
// exception that escapes a handler is reported and answered ERROR, instead
// of unwinding through the io loop and ending every port's service. The
// fuzzing build lets it through so that the fuzzers still find the bug.
void call_handler(const Handler& handler, Call& call, const EngineConfig& config) {
#ifdef VMODEM_FUZZING
  (void)config;
  handler(call);
#else
  // A copy: the handler may move its own away before it throws.
  Responder answer = call.responder;
  const auto report = [&](std::string_view what) {
    if (config.on_handler_exception) config.on_handler_exception(call.command.name, what);
    answer.error();
  };
  try {
    handler(call);
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("an exception that is not a std::exception");
  }
#endif
}

}  // namespace

void EngineCore::run_chain() {
  const std::uint64_t epoch = epoch_;
  // Iterative, not recursive: a long `;` chain of synchronous commands must not
  // grow the stack.
  while (!pending_ && epoch == epoch_ && mode_ == EngineMode::kExecuting) {
    if (failure_) {
      mux_request_.reset();
      emit_failure(*failure_);
      end_chain();
      return;
    }
    if (next_command_ == chain_.size()) {
      emit_result(ResultCode::kOk);
      // Set before end_chain(): no URC may follow the OK in AT framing.
      const std::optional<CmuxParams> mux = std::exchange(mux_request_, std::nullopt);
      if (mux) muxed_ = true;
      end_chain();
      if (mux && config_.on_mux) config_.on_mux(*mux);
      return;
    }
    // A copy: a handler may reset the port, which clears chain_.
    const Command command = chain_[next_command_++];
    dispatch(command);
  }
}

void EngineCore::dispatch(const Command& command) {
  ++command_id_;
  block_open_ = false;
  const CommandSpec* spec = registry_.find(command.name);
  const Handler* handler = spec != nullptr ? select_handler(*spec, command.form) : nullptr;
  if (handler == nullptr) {
    // Unknown command or unsupported form: a syntax matter, so plain ERROR.
    failure_ = Failure::error();
    return;
  }
  if (auto refusal = registry_.check_gate(command, spec->gate_tag)) {
    failure_ = *refusal;
    return;
  }
  pending_ = true;
  dispatching_ = true;
  {
    // Scoped so that a Responder dropped by the handler is released while
    // dispatching_ still tells complete() not to resume the chain itself.
    Call call{command, Responder(std::make_shared<Ticket>(this, alive_, command_id_)), settings_,
              config_.defaults};
    call_handler(*handler, call, config_);
  }
  dispatching_ = false;
}

bool EngineCore::complete(std::uint64_t id, std::optional<Failure> failure) {
  Entry entry(*this);
  if (!is_current(id)) return false;
  pending_ = false;
  if (failure) failure_ = failure;
  // An answer given during an upload waits for the announced bytes (the
  // handler gave up early; the host is still sending). One given during a
  // download ends it: the host has nothing more to send.
  if (mode_ == EngineMode::kUpload) {
    upload_answered_ = true;
    return true;
  }
  if (mode_ == EngineMode::kDownload) {
    release_data_specs();
    mode_ = EngineMode::kExecuting;
  }
  if (!dispatching_) run_chain();
  return true;
}

void EngineCore::end_chain() {
  chain_.clear();
  next_command_ = 0;
  failure_.reset();
  mode_ = EngineMode::kCommand;
  flush_urcs();
}

void EngineCore::reject_line() {
  ++stats_.lines_rejected;
  emit_failure(Failure::error());
  flush_urcs();
}

bool EngineCore::respond_info(std::uint64_t id, std::string_view line) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return false;
  emit_info(line);
  return true;
}

bool EngineCore::respond_raw(std::uint64_t id, std::span<const std::uint8_t> bytes) {
  Entry entry(*this);
  if (!is_current(id)) return false;
  append_output(bytes);
  return true;
}

}  // namespace vmodem::at::detail
