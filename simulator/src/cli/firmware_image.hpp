// The firmware of a module image for the offline tools (`vmodem firmware
// info|stage`, `vmodem delta apply --image`): open the image (or a state
// directory's nand.img), its firmware store and FOTA area.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/fota_area.hpp>
#include <vmodem/simulator/flash.hpp>

namespace vmodem::cli {

struct ModuleFirmware {
  std::unique_ptr<sim::Flash> flash;
  std::unique_ptr<fota::FirmwareStore> store;
  std::unique_ptr<fota::FotaArea> area;
};

// A state directory means its nand.img.
std::filesystem::path module_image_path(const std::filesystem::path& state_or_image);

// Opens the image and its firmware; on failure prints why and returns the
// exit code.
tl::expected<ModuleFirmware, int> open_module_firmware(const std::filesystem::path& state_or_image,
                                                       const std::string& profile, bool read_only);

}  // namespace vmodem::cli
