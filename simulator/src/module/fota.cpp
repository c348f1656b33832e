// Firmware update inside the module (SPEC §7): staging a downloaded package
// in the FOTA area and applying it at the next boot.
//
// PROVISIONAL: until the NAND firmware store lands, staging is refused with
// 502 and the version is the profile's identity revision.
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

namespace vmodem::sim {

int Module::stage_firmware_update(std::span<const std::uint8_t> package) {
  spdlog::warn("FOTA: staging a {}-byte package is not implemented yet", package.size());
  return 502;
}

std::string Module::firmware_version() const { return profile_.identity.revision; }

}  // namespace vmodem::sim
