// The module's firmware as the simulator lays it out: one image per
// partition of role "firmware" (named like the partition), two A/B slots in
// each (fota/firmware_store.hpp), the boot record in the "mibib" partition
// (Qualcomm's boot information block), the FOTA area in the partition of
// role "fota". Shared by manufacture (flash.cpp), the boot-time update
// (fota.cpp) and the offline tools.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

inline constexpr const char* kBootRecordPartition = "mibib";

// The profile's layout; an error (a message) if it has no firmware
// partitions or no boot record partition.
tl::expected<fota::FirmwareLayout, std::string> firmware_layout(const Profile& profile);
// The FOTA partition, or an error message.
tl::expected<nand::PartitionSpec, std::string> fota_partition(const Profile& profile);

// The factory firmware: the profile's manifest, or synthetic images from
// `manufacture_seed` (version identity.revision, model identity.model).
tl::expected<fota::FirmwareBundle, std::string> factory_firmware(const Profile& profile,
                                                                 std::uint64_t manufacture_seed);

// Writes the factory firmware into slot A and commits it (manufacture, or a
// module whose firmware is gone). No-op success for a profile without a
// firmware layout.
tl::expected<void, std::string> install_factory_firmware(const Profile& profile,
                                                         nand::Device& device,
                                                         std::uint64_t manufacture_seed);

}  // namespace vmodem::sim
