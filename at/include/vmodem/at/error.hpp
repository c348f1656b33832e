#pragma once

// The one error type that crosses the vmodem_at boundary (port set-up, parser,
// registry). The data path (bytes in, bytes out) never throws and never
// returns this: bad input from the host becomes an `ERROR` result code.

#include <string>

namespace vmodem::at {

enum class ErrorCode {
  kSyntax,           // a command line that V.250 does not allow
  kInvalidArgument,  // a caller passed something the contract forbids
  kSystem,           // an OS call failed; `sys_errno` says which way
};

struct Error {
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string message;
  int sys_errno = 0;
};

}  // namespace vmodem::at
