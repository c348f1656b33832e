#pragma once

// A parsed AT command: what a handler receives.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vmodem::at {

// The four V.250 forms of a command:
//   execute  `AT+CGMI`, `ATE1`, `ATI`
//   read     `AT+CMEE?`, `ATS3?`
//   write    `AT+CMEE=2`, `ATS3=13`
//   test     `AT+CMEE=?`, `ATS3=?`
enum class CommandForm : std::uint8_t { kExecute, kRead, kWrite, kTest };

// One parameter of a write command (or the number after a basic command).
// `AT+X=1,,"a\22b",abc` gives integer 1, omitted, quoted string `a"b`, bare
// string `abc`.
class Argument {
 public:
  Argument() = default;  // omitted
  static Argument integer(std::int64_t value) { return Argument(value, false); }
  static Argument string(std::string value, bool quoted) {
    return Argument(std::move(value), quoted);
  }

  bool is_omitted() const noexcept { return std::holds_alternative<std::monostate>(value_); }
  bool is_integer() const noexcept { return std::holds_alternative<std::int64_t>(value_); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(value_); }
  // True for a string that was written between double quotes.
  bool quoted() const noexcept { return quoted_; }

  // The value if this is an integer, else nullopt.
  std::optional<std::int64_t> as_integer() const noexcept;
  // The value if this is a string (quoted or bare), else nullopt. The view
  // lives as long as this Argument.
  std::optional<std::string_view> as_string() const noexcept;

  friend bool operator==(const Argument&, const Argument&) = default;

 private:
  template <typename T>
  Argument(T value, bool quoted) : value_(std::move(value)), quoted_(quoted) {}

  std::variant<std::monostate, std::int64_t, std::string> value_;
  bool quoted_ = false;
};

struct Command {
  // Upper case, with its prefix: "+CMEE", "+QFUPL", "E", "&F", "S3", "I", "D".
  std::string name;
  CommandForm form = CommandForm::kExecute;
  // Write form: the parameters in order (an empty write `AT+X=` gives one
  // omitted argument). Basic commands: empty, or the one number after the
  // letter (`ATE1`). `ATD<dial>`: one bare string, the dial string.
  std::vector<Argument> args;

  // The i-th argument, or an omitted one past the end (so handlers can read
  // optional trailing parameters without bounds checks).
  const Argument& arg(std::size_t index) const noexcept;
};

}  // namespace vmodem::at
