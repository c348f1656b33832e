// Readiness classes of AT commands (at::CommandSpec::gate_tag). The module's
// gate refuses a command with ERROR until the module reached its state:
// before RDY only kAlways commands run; kNeedsRdy after RDY (modem side up);
// kNeedsAppRdy after APP RDY (AP side up, file system mounted). The SIM
// classes need RDY and, besides, a card in the slot (kNeedsSim: +CME ERROR:
// 10 without one) or a card whose PIN was entered (kNeedsSimPin: 11 / 12
// until then); their test forms (AT+X=?) answer regardless of the card.
#pragma once

#include <cstdint>

namespace vmodem::sim {

enum GateTag : std::uint32_t {
  kAlways = 0,
  kNeedsRdy = 1,
  kNeedsAppRdy = 2,
  kNeedsSim = 3,
  kNeedsSimPin = 4,
};

}  // namespace vmodem::sim
