#pragma once

// The parameters of AT+CMUX (3GPP TS 27.007 §5.7), as the module keeps them
// for one multiplexer session. Defaults are the 27.007 / Quectel ones.

#include <cstdint>

namespace vmodem::at {

struct CmuxParams {
  int mode = 0;        // 0: basic option (the only one supported)
  int subset = 0;      // 0: UIH frames used only
  int port_speed = 5;  // 5: 115200 bit/s (a PTY has no speed; kept for the read form)
  int n1 = 127;        // maximum information field length, each direction
  int t1 = 10;         // acknowledgement timer, 10 ms units (not used: no retransmission)
  int n2 = 3;          // maximum retransmissions (not used)
  int t2 = 30;         // control channel response timer, 10 ms units (not used)
  int t3 = 10;         // wake-up response timer, s (not used)
  int k = 2;           // window size (advanced option only; not used)

  friend bool operator==(const CmuxParams&, const CmuxParams&) = default;
};

}  // namespace vmodem::at
