// Readiness classes of AT commands (at::CommandSpec::gate_tag). The module's
// gate refuses a command with ERROR until the module reached its state:
// before RDY only kAlways commands run; kNeedsRdy after RDY (modem side up);
// kNeedsAppRdy after APP RDY (AP side up, file system mounted).
#pragma once

#include <cstdint>

namespace vmodem::sim {

enum GateTag : std::uint32_t {
  kAlways = 0,
  kNeedsRdy = 1,
  kNeedsAppRdy = 2,
};

}  // namespace vmodem::sim
