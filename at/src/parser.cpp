// V.250 command line syntax (§5.3 basic, §5.4 extended).

#include <charconv>
#include <limits>
#include <string>

#include <vmodem/at/parser.hpp>

#include "names.hpp"

namespace vmodem::at {

namespace {

using detail::is_alpha;
using detail::is_digit;
using detail::upper;

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7F;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char u = upper(c);
  if (u >= 'A' && u <= 'F') return u - 'A' + 10;
  return -1;
}

// Digits of a basic command or S-parameter number. V.250 values there are
// small; capping the length keeps the conversion trivially safe.
constexpr std::size_t kMaxBasicDigits = 9;

class Parser {
 public:
  explicit Parser(std::string_view body) : text_(body) {}

  tl::expected<std::vector<Command>, Error> run() {
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (is_control(static_cast<unsigned char>(text_[i]))) return fail("control character", i);
    }
    std::vector<Command> commands;
    while (true) {
      skip_spaces();
      if (at_end()) break;
      if (peek() == ';') {
        ++pos_;  // V.250 separator; tolerated after basic commands too
        continue;
      }
      auto command = parse_command();
      if (!command) return tl::unexpected(std::move(command.error()));
      commands.push_back(std::move(*command));
    }
    return commands;
  }

 private:
  tl::expected<Command, Error> parse_command() {
    const char c = peek();
    if (detail::is_extended_prefix(c)) return parse_extended();
    if (upper(c) == 'D') return parse_dial();
    if (upper(c) == 'S') return parse_s_parameter();
    if (c == '&') return parse_basic(true);
    if (detail::is_basic_letter(c)) return parse_basic(false);
    return fail("unexpected character", pos_);
  }

  // `+NAME`, `+NAME?`, `+NAME=?`, `+NAME=<args>`; then `;` or end.
  tl::expected<Command, Error> parse_extended() {
    Command command;
    const std::size_t start = pos_++;
    if (at_end() || !is_alpha(peek())) return fail("extended name must start with a letter", pos_);
    while (!at_end() && detail::is_extended_name_char(peek()))
      ++pos_;
    command.name = detail::to_upper(text_.substr(start, pos_ - start));
    skip_spaces();
    if (consume('=')) {
      skip_spaces();
      if (consume('?')) {
        command.form = CommandForm::kTest;
      } else {
        command.form = CommandForm::kWrite;
        if (auto parsed = parse_arguments(command); !parsed) return tl::unexpected(parsed.error());
      }
    } else if (consume('?')) {
      command.form = CommandForm::kRead;
    }
    skip_spaces();
    if (!at_end() && !consume(';')) return fail("expected ';' after extended command", pos_);
    return command;
  }

  // `E`, `E1`, `&F0`, `I?`: letter, optional number or `?`.
  tl::expected<Command, Error> parse_basic(bool ampersand) {
    Command command;
    if (ampersand) {
      ++pos_;
      skip_spaces();
      if (at_end() || !is_alpha(peek())) return fail("'&' must be followed by a letter", pos_);
      command.name = "&";
    }
    command.name.push_back(upper(text_[pos_++]));
    skip_spaces();
    if (consume('?')) {
      command.form = CommandForm::kRead;
      return command;
    }
    if (!at_end() && is_digit(peek())) {
      auto value = parse_basic_number();
      if (!value) return tl::unexpected(value.error());
      command.args.push_back(Argument::integer(*value));
    }
    return command;
  }

  // `S<n>?`, `S<n>=?`, `S<n>=<value>` (an empty value is omitted).
  tl::expected<Command, Error> parse_s_parameter() {
    Command command;
    ++pos_;
    if (at_end() || !is_digit(peek())) return fail("S-parameter needs a number", pos_);
    const std::size_t start = pos_;
    while (!at_end() && is_digit(peek()))
      ++pos_;
    if (pos_ - start > kMaxBasicDigits) return fail("S-parameter number too long", start);
    command.name = "S" + std::string(text_.substr(start, pos_ - start));
    skip_spaces();
    if (consume('?')) {
      command.form = CommandForm::kRead;
      return command;
    }
    if (!consume('=')) return fail("S-parameter needs '?' or '='", pos_);
    skip_spaces();
    if (consume('?')) {
      command.form = CommandForm::kTest;
      return command;
    }
    command.form = CommandForm::kWrite;
    if (!at_end() && is_digit(peek())) {
      auto value = parse_basic_number();
      if (!value) return tl::unexpected(value.error());
      command.args.push_back(Argument::integer(*value));
    } else {
      command.args.emplace_back();
    }
    return command;
  }

  // `D<dial string>` runs to `;` or the end of the line; spaces are dropped.
  tl::expected<Command, Error> parse_dial() {
    Command command;
    command.name = "D";
    ++pos_;
    std::string dial;
    while (!at_end() && peek() != ';') {
      const char c = text_[pos_++];
      if (static_cast<unsigned char>(c) >= 0x80) return fail("non-ASCII in dial string", pos_ - 1);
      if (c != ' ') dial.push_back(c);
    }
    consume(';');
    command.args.push_back(Argument::string(std::move(dial), false));
    return command;
  }

  tl::expected<std::int64_t, Error> parse_basic_number() {
    const std::size_t start = pos_;
    while (!at_end() && is_digit(peek()))
      ++pos_;
    if (pos_ - start > kMaxBasicDigits) return fail("number too long", start);
    std::int64_t value = 0;
    for (char c : text_.substr(start, pos_ - start))
      value = value * 10 + (c - '0');
    return value;
  }

  // Comma-separated parameters up to `;` or the end.
  tl::expected<void, Error> parse_arguments(Command& command) {
    do {
      skip_spaces();
      auto argument = parse_argument();
      if (!argument) return tl::unexpected(argument.error());
      command.args.push_back(std::move(*argument));
      skip_spaces();
    } while (consume(','));
    if (!at_end() && peek() != ';') return fail("unexpected character after parameter", pos_);
    return {};
  }

  tl::expected<Argument, Error> parse_argument() {
    if (at_end() || peek() == ',' || peek() == ';') return Argument{};
    if (peek() == '"') return parse_quoted();
    return parse_bare();
  }

  // `"..."` with `\HH` escapes.
  tl::expected<Argument, Error> parse_quoted() {
    const std::size_t start = pos_++;
    std::string value;
    while (true) {
      if (at_end()) return fail("unterminated string", start);
      const char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        value.push_back(c);
        continue;
      }
      if (pos_ + 2 > text_.size()) return fail("truncated escape", pos_ - 1);
      const int high = hex_value(text_[pos_]);
      const int low = hex_value(text_[pos_ + 1]);
      if (high < 0 || low < 0) return fail("escape needs two hex digits", pos_ - 1);
      value.push_back(static_cast<char>(high * 16 + low));
      pos_ += 2;
    }
    return Argument::string(std::move(value), true);
  }

  // A number (`-12`, `+3`, `007`) or an unquoted word (`GSM`, `0x1F`).
  tl::expected<Argument, Error> parse_bare() {
    const std::size_t start = pos_;
    while (!at_end() && peek() != ',' && peek() != ';') {
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"' || c >= 0x80) return fail("bad character in parameter", pos_);
      ++pos_;
    }
    std::string_view token = text_.substr(start, pos_ - start);
    token = token.substr(0, token.find_last_not_of(' ') + 1);
    // `1 2` could mean 12 or two values: refuse to guess.
    if (token.find(' ') != std::string_view::npos) return fail("space inside parameter", start);
    if (!looks_numeric(token)) return Argument::string(std::string(token), false);
    if (token.front() == '+') token.remove_prefix(1);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc{} || end != token.data() + token.size()) {
      return fail("integer out of range", start);
    }
    return Argument::integer(value);
  }

  static bool looks_numeric(std::string_view token) {
    if (!token.empty() && (token.front() == '-' || token.front() == '+')) token.remove_prefix(1);
    if (token.empty()) return false;
    for (char c : token) {
      if (!is_digit(c)) return false;
    }
    return true;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  bool consume(char c) {
    if (at_end() || peek() != c) return false;
    ++pos_;
    return true;
  }
  void skip_spaces() {
    while (!at_end() && peek() == ' ')
      ++pos_;
  }

  tl::unexpected<Error> fail(std::string_view what, std::size_t where) const {
    return tl::unexpected(Error{ErrorCode::kSyntax,
                                std::string(what) + " at column " + std::to_string(where + 2), 0});
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

tl::expected<std::vector<Command>, Error> parse_command_line(std::string_view body) {
  return Parser(body).run();
}

}  // namespace vmodem::at
