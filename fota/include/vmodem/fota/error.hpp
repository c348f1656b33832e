// One error type for the whole delta engine.
//
// Every fallible function returns Result<T> (tl::expected); nothing on the
// data path throws. Codes are chosen so that each maps onto exactly one of
// the module's `+QIND: "FOTA","END",<err>` codes (SPEC §7), which is what the
// AT layer reports; the message is for humans and logs only.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace vmodem::fota {

enum class ErrorCode {
  kBadPackage,        // corrupt, truncated or malformed package (END 505)
  kUnsupported,       // well-formed but of a format version/algorithm we lack (END 504)
  kFirmwareMismatch,  // wrong model, source version or source digest (END 510)
  kNoSpace,           // target does not fit the space the caller allows (END 511)
  kUnpackFailed,      // patch decoding failed or the target digest is wrong (END 501)
  kAborted,           // the sink or source refused, or the caller cancelled (END 502)
  kPowerLoss,         // the NAND lost power: nothing more was written; the next boot goes on
  kInvalidInput,      // generator/CLI input is unusable (bad manifest, missing file)
  kIo,                // a host file could not be read or written
};

// The END code the module reports for `code` (SPEC §7).
constexpr int end_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadPackage:
      return 505;
    case ErrorCode::kUnsupported:
      return 504;
    case ErrorCode::kFirmwareMismatch:
      return 510;
    case ErrorCode::kNoSpace:
      return 511;
    case ErrorCode::kUnpackFailed:
      return 501;
    case ErrorCode::kAborted:
    case ErrorCode::kPowerLoss:  // never reported: a module without power says nothing
    case ErrorCode::kInvalidInput:
    case ErrorCode::kIo:
      return 502;
  }
  return 502;
}

// A NAND call failed: with power (kAborted, e.g. a grown bad block) or
// without (kPowerLoss).
constexpr bool is_flash_failure(ErrorCode code) {
  return code == ErrorCode::kAborted || code == ErrorCode::kPowerLoss;
}

// Short stable name for logs and JSON output ("bad-package", ...).
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

// Builds the unexpected value for a failing Result: `return fail(kBadPackage, "...")`.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace vmodem::fota
