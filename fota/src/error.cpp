#include <vmodem/fota/error.hpp>

namespace vmodem::fota {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadPackage:
      return "bad-package";
    case ErrorCode::kUnsupported:
      return "unsupported-package";
    case ErrorCode::kFirmwareMismatch:
      return "firmware-mismatch";
    case ErrorCode::kNoSpace:
      return "no-space";
    case ErrorCode::kUnpackFailed:
      return "unpack-failed";
    case ErrorCode::kAborted:
      return "aborted";
    case ErrorCode::kPowerLoss:
      return "power-loss";
    case ErrorCode::kInvalidInput:
      return "invalid-input";
    case ErrorCode::kIo:
      return "io-error";
  }
  return "unknown";
}

}  // namespace vmodem::fota
