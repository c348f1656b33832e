#pragma once

// Per-port V.250 settings: what ATE/ATV/ATQ/ATSn/+CMEE change. Each port has
// its own copy; ATZ/AT&F handlers restore the defaults.

#include <cstdint>

namespace vmodem::at {

// +CMEE: how a failing command that carries a 27.007 error code is reported.
enum class CmeeMode : std::uint8_t {
  kOff = 0,      // plain `ERROR`
  kNumeric = 1,  // `+CME ERROR: <n>`
  kVerbose = 2,  // `+CME ERROR: <text>`
};

struct PortSettings {
  bool echo = true;     // ATE1: echo command-mode characters back
  bool verbose = true;  // ATV1: `\r\nOK\r\n`; ATV0: `0\r`
  bool quiet = false;   // ATQ1: suppress result codes (information text still sent)
  CmeeMode cmee = CmeeMode::kOff;
  std::uint8_t s3 = '\r';  // command line terminator
  std::uint8_t s4 = '\n';  // response formatting character
  std::uint8_t s5 = '\b';  // command line editing (backspace)

  friend bool operator==(const PortSettings&, const PortSettings&) = default;
};

}  // namespace vmodem::at
