// Command state: one byte at a time, as V.250 describes the DCE.

#include <vmodem/at/parser.hpp>

#include "engine_core.hpp"
#include "names.hpp"

namespace vmodem::at::detail {

namespace {

constexpr std::uint8_t kLineFeed = '\n';
constexpr std::uint8_t kCtrlZ = 0x1A;
constexpr std::uint8_t kEscape = 0x1B;

// `AT` or `at`: V.250 names exactly these two spellings.
bool has_prefix(std::string_view line) {
  return line.size() >= 2 && (line.substr(0, 2) == "AT" || line.substr(0, 2) == "at");
}

std::string_view trim_leading_spaces(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  return first == std::string_view::npos ? std::string_view{} : text.substr(first);
}

}  // namespace

void EngineCore::on_command_byte(std::uint8_t byte) {
  if (byte == settings_.s3) {
    echo(byte);
    // Set first: a data-mode command on this line looks at it (engine_data.cpp).
    after_s3_ = true;
    complete_line();
    return;
  }
  after_s3_ = false;
  // LF is ignored in command state: it is the tail of a `\r\n` terminator (or
  // noise), never an empty command, and it is not echoed.
  if (byte == kLineFeed) return;
  echo(byte);
  // Ctrl-Z or ESC: a host closing a `> ` prompt that may not be open (hosts
  // such as gsm0710muxd send one before each command). The line typed so
  // far is dropped; nothing is answered.
  if (byte == kCtrlZ || byte == kEscape) {
    line_.clear();
    line_overflow_ = false;
    return;
  }
  if (byte == settings_.s5) {
    if (!line_.empty() && !line_overflow_) line_.pop_back();
    return;
  }
  if (byte == '/' && line_.size() == 1 && is_a(line_.front()) && !line_overflow_) {
    line_.clear();
    repeat_last_line();
    return;
  }
  if (line_.size() >= config_.max_line_length) {
    // Keep nothing more; the terminator will answer ERROR.
    line_overflow_ = true;
    return;
  }
  line_.push_back(static_cast<char>(byte));
}

void EngineCore::echo(std::uint8_t byte) {
  if (settings_.echo) {
    out_.push(byte);
    ++stats_.bytes_out;
  }
}

void EngineCore::complete_line() {
  const bool overflow = line_overflow_;
  std::string line = std::move(line_);
  line_.clear();
  line_overflow_ = false;
  if (overflow) {
    reject_line();
    return;
  }
  // A bare terminator (or spaces) is how hosts wake a port; it gets no answer.
  if (trim_leading_spaces(line).empty()) return;
  execute_line(line);
}

void EngineCore::execute_line(const std::string& line) {
  const std::string_view text = trim_leading_spaces(line);
  if (!has_prefix(text)) {
    reject_line();
    return;
  }
  last_line_ = line;
  ++stats_.lines;
  auto commands = parse_command_line(text.substr(2));
  if (!commands) {
    reject_line();
    return;
  }
  chain_ = std::move(*commands);
  next_command_ = 0;
  failure_.reset();
  mode_ = EngineMode::kExecuting;
  run_chain();
}

void EngineCore::repeat_last_line() {
  if (last_line_.empty()) {
    reject_line();
    return;
  }
  // Copy: execute_line() stores its argument into last_line_.
  const std::string line = last_line_;
  execute_line(line);
}

}  // namespace vmodem::at::detail
