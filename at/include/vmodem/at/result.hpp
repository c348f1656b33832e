#pragma once

// V.250 result codes and the ways a command can end other than OK.

#include <cstdint>
#include <optional>
#include <string_view>

namespace vmodem::at {

// Numeric values are the V.250 numeric forms printed under ATV0.
enum class ResultCode : std::uint8_t {
  kOk = 0,
  kConnect = 1,
  kRing = 2,
  kNoCarrier = 3,
  kError = 4,
  kNoDialtone = 6,
  kBusy = 7,
  kNoAnswer = 8,
};

// The verbose text (`OK`, `NO CARRIER`, ...) of a result code.
std::string_view verbose_text(ResultCode code) noexcept;

// How a command ends when it does not succeed. The engine formats it with the
// port's settings at the moment it is printed.
class Failure {
 public:
  // Plain `ERROR`, whatever +CMEE says (syntax errors, unknown commands).
  static Failure error() noexcept { return Failure(Kind::kError, ResultCode::kError, 0); }
  // A 27.007 / Quectel error: `ERROR`, `+CME ERROR: <n>` or `+CME ERROR: <text>`
  // depending on +CMEE.
  static Failure cme(int code) noexcept { return Failure(Kind::kCme, ResultCode::kError, code); }
  // Another final result code that ends the command line (`NO CARRIER`, `BUSY`).
  static Failure result(ResultCode code) noexcept { return Failure(Kind::kResult, code, 0); }
  // A final result of the command's own instead of OK or ERROR, e.g.
  // Quectel's `SEND OK` / `SEND FAIL`: framed like an extended result code
  // (no numeric form, suppressed by ATQ1), and it ends the command line.
  // `text` must have static storage (a string literal).
  static Failure text(std::string_view text) noexcept {
    Failure f(Kind::kText, ResultCode::kOk, 0);
    f.text_ = text;
    return f;
  }

  bool is_cme() const noexcept { return kind_ == Kind::kCme; }
  // The text of a Failure::text (empty for the others).
  std::string_view text() const noexcept { return text_; }
  int cme_code() const noexcept { return cme_code_; }
  ResultCode result_code() const noexcept { return code_; }

  friend bool operator==(const Failure&, const Failure&) = default;

 private:
  enum class Kind : std::uint8_t { kError, kCme, kResult, kText };
  Failure(Kind kind, ResultCode code, int cme_code) noexcept
      : kind_(kind), code_(code), cme_code_(cme_code) {}

  Kind kind_;
  ResultCode code_;
  int cme_code_;
  std::string_view text_;
};

// Built-in text for a +CME error code under +CMEE=2: the common 27.007 codes
// and the Quectel file-system codes (400-426). nullopt for codes it does not
// know; the engine then prints the number. Registry::set_cme_text overrides.
std::optional<std::string_view> builtin_cme_text(int code) noexcept;

}  // namespace vmodem::at
