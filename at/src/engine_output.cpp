// What the host sees: V.250 framing of information text and result codes,
// and the URC queue.

#include <string>

#include "engine_core.hpp"

namespace vmodem::at::detail {

void EngineCore::append_output(std::string_view text) {
  if (unheard_) return;
  out_.append(text);
  stats_.bytes_out += text.size();
}

void EngineCore::append_output(std::span<const std::uint8_t> bytes) {
  if (unheard_) return;
  out_.append(bytes);
  stats_.bytes_out += bytes.size();
}

// Verbose (ATV1): `<S3><S4>text<S3><S4>`, the header once per block.
// Numeric (ATV0): `text<S3><S4>`, no header (V.250 6.2.6).
void EngineCore::emit_text_line(std::string_view text, bool header) {
  const std::string eol{static_cast<char>(settings_.s3), static_cast<char>(settings_.s4)};
  if (settings_.verbose && header) append_output(eol);
  append_output(text);
  append_output(eol);
}

void EngineCore::emit_info(std::string_view line) {
  emit_text_line(line, !block_open_);
  block_open_ = true;
}

void EngineCore::emit_result(ResultCode code) {
  if (settings_.quiet) return;
  if (settings_.verbose) {
    emit_text_line(verbose_text(code), true);
    return;
  }
  append_output(std::to_string(static_cast<int>(code)));
  append_output(std::string(1, static_cast<char>(settings_.s3)));
}

void EngineCore::emit_failure(const Failure& failure) {
  if (!failure.text().empty()) {
    if (!settings_.quiet) emit_text_line(failure.text(), true);
    return;
  }
  if (!failure.is_cme() || settings_.cmee == CmeeMode::kOff) {
    emit_result(failure.result_code());
    return;
  }
  if (settings_.quiet) return;
  std::string text = "+CME ERROR: ";
  const auto verbose = registry_.cme_text(failure.cme_code());
  if (settings_.cmee == CmeeMode::kVerbose && verbose) {
    text += *verbose;
  } else {
    text += std::to_string(failure.cme_code());
  }
  // An extended result code: framed like information text (no numeric form).
  emit_text_line(text, true);
}

void EngineCore::emit_urc(std::string_view line) {
  emit_text_line(line, true);
  ++stats_.urcs_sent;
}

void EngineCore::flush_urcs() {
  // Idle only: a URC must never land inside a response or raw data.
  if (mode_ != EngineMode::kCommand || muxed_ || unheard_) return;
  while (!urcs_.empty() && !output_full()) {
    emit_urc(urcs_.front());
    urcs_.pop_front();
  }
}

}  // namespace vmodem::at::detail
