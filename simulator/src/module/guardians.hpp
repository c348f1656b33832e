// The firmware's boot-time guardians: what runs at power-on, before the host
// hears RDY or APP RDY, to check each file system and repair it. A product
// family (Profile::family) runs its guardians in order; the first one in
// charge of a file system boots it, and a file system no guardian takes is
// mounted plainly (an unusable one is reformatted with its factory files).
//
//   bg95       : the partition backup (AT+QPRTPARA; probe points 1-10, SPEC §4)
//   uc20       : none
//   quecpython : the per-file restore of /usr from /bak with checksum.json
//                (seed 002, quecpython/guardian.hpp), in the second hook
//   ec2x-quecopen : the application sync between system and usr_data (seed
//                001, quecopen/guardian.hpp), in the second hook
//
// Guardians that check across file systems (QuecPython's, the EC2x QuecOpen
// application sync) use the second hook, after_stage(), which runs
// once a boot stage's file systems are all mounted.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <vmodem/fs/shared.hpp>
#include <vmodem/simulator/profile.hpp>

#include "module/fs_boot.hpp"

namespace vmodem::sim {

// A mounted file system of a boot stage.
struct StageFs {
  const FileSystemSpec* spec = nullptr;
  fs::FileSystem* fs = nullptr;
};

// File systems of a stage, each under its lock (taken in the order added:
// the profile's, shared.hpp's lock order) for as long as this lives.
class LockedStage {
 public:
  void add(const FileSystemSpec* spec, fs::SharedFileSystem& shared) {
    held_.push_back(std::make_unique<fs::SharedFileSystem::Access>(shared));
    mounted_.push_back({spec, &**held_.back()});
  }
  std::span<const StageFs> mounted() const { return mounted_; }

 private:
  std::vector<std::unique_ptr<fs::SharedFileSystem::Access>> held_;
  std::vector<StageFs> mounted_;
};

class BootGuardian {
 public:
  virtual ~BootGuardian() = default;
  virtual std::string_view name() const = 0;
  // Boots `fs` when this guardian is in charge of it; nullopt when not.
  virtual std::optional<FsBoot> boot(const FsBootEnv& env, const FileSystemSpec& fs,
                                     bool manufacture) const = 0;
  // Runs once the file systems of a boot stage are mounted (`before_rdy`:
  // the modem one; else the AP one and the others, before APP RDY), with
  // all of them. Returns how many files it restored. Errors are the file
  // systems' (power_loss: the boot stops there and the next one goes on).
  virtual fs::Result<std::uint32_t> after_stage(const FsBootEnv& env,
                                                std::span<const StageFs> mounted,
                                                bool before_rdy) const;
};

// The guardians of `family`, in the order they run.
std::span<const BootGuardian* const> guardians_of(Family family);

// The second hook of every guardian of env.profile's family, in order, over
// the stage's mounted file systems; the files they restored, summed.
fs::Result<std::uint32_t> run_stage_guardians(const FsBootEnv& env,
                                              std::span<const StageFs> mounted, bool before_rdy);

// Boots one file system of env.profile as the module does at power-on:
// through the family's guardians; `manufacture` for the first boot of a
// fresh image.
FsBoot boot_file_system(const FsBootEnv& env, const FileSystemSpec& fs, bool manufacture);

// The same for the modem (modem_fs) or AP (ap_fs) file system, as the
// power-cut campaigns name them.
FsBoot boot_file_system(const FsBootEnv& env, PartitionRole role, bool manufacture);

}  // namespace vmodem::sim
