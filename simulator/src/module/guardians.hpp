// The firmware's boot-time guardians: what runs at power-on, before the host
// hears RDY or APP RDY, to check each file system and repair it. A product
// family (Profile::family) runs its guardians in order; the first one in
// charge of a file system boots it, and a file system no guardian takes is
// mounted plainly (an unusable one is reformatted with its factory files).
//
//   bg95  : the partition backup (AT+QPRTPARA; probe points 1-10, SPEC §4)
//   uc20  : none
//
// The EC2x QuecOpen application sync and the QuecPython per-file checksums
// come next; they check across the mounted file systems, so they will add a
// second hook that runs once a boot stage's file systems are up.
#pragma once

#include <span>
#include <string_view>

#include <vmodem/simulator/profile.hpp>

#include "module/fs_boot.hpp"

namespace vmodem::sim {

class BootGuardian {
 public:
  virtual ~BootGuardian() = default;
  virtual std::string_view name() const = 0;
  // Boots `fs` when this guardian is in charge of it; nullopt when not.
  virtual std::optional<FsBoot> boot(const FsBootEnv& env, const FileSystemSpec& fs,
                                     bool manufacture) const = 0;
};

// The guardians of `family`, in the order they run.
std::span<const BootGuardian* const> guardians_of(Family family);

// Boots one file system of env.profile as the module does at power-on:
// through the family's guardians; `manufacture` for the first boot of a
// fresh image.
FsBoot boot_file_system(const FsBootEnv& env, const FileSystemSpec& fs, bool manufacture);

// The same for the modem (modem_fs) or AP (ap_fs) file system, as the
// power-cut campaigns name them.
FsBoot boot_file_system(const FsBootEnv& env, PartitionRole role, bool manufacture);

}  // namespace vmodem::sim
