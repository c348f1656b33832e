// The file-system part of the module's boot, as one unit that the Module and
// the power-cut campaigns (tests/simulator_backup) and benchmarks share, so a
// campaign boots exactly as the module does. Which steps run is the family's
// guardians' choice (guardians.hpp); with the BG95 partition backup:
//
//   open the partition and its backup (data + info partitions, engine)
//   → count the boot (probe 10's boot-loop counter)
//   → mount (probe points 1-9 run inside the mount)
//   → BackupEngine::at_boot decides: go on, restore, or no valid backup
//   → restore (then mount again), or format and refill with the factory
//     files and say so (FS_REBUILT): never a silent empty file system.
//
// A file system in a UBI volume (Linux modules) is reached through UBI:
// attached on the partition first, and a partition whose UBI or volume is
// unusable is formatted with the volume created (FS_FORMATTED), as the
// kernel's find_partitions does; the file system in it is then rebuilt.
//
// On the first boot of a fresh image ("manufacture") the file system is
// formatted, filled with its factory files and backed up once (the
// production-line backup).
//
// Every NAND call may hit a power cut: the unit then stops at once, writes
// nothing more and reports power_lost (the caller drops to OFF).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/config.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/module.hpp>  // BackupSide
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

// What a boot needs besides the flash, computed once from the profile (a
// campaign boots thousands of times).
struct FsBootEnv {
  FsBootEnv(Flash& flash, const Profile& profile);

  Flash& flash;
  const Profile& profile;
  std::uint64_t manufacture_seed;    // the flash's, when this was built (the checks depend on it)
  fs::Config config;                 // how the module mounts its file systems
  fs::BackupOptions backup_options;  // power_loss_mode, restore format and checks
  // Where the boot logs (the module's log; campaigns: the default logger).
  spdlog::logger* log;
  // Events for the control socket (FS_REBUILT, RESTORE); may be empty.
  std::function<void(const std::string& event, nlohmann::json data)> emit;
  // Probes 7 and 8: each file system's boot-critical files (fs_config.hpp),
  // checked by the boot mount and after a restore; by file-system name.
  std::map<std::string, fs::CheckOptions, std::less<>> checks_by_name;
  const fs::CheckOptions& checks(const FileSystemSpec& fs) const;
};

enum class FsBootOutcome : std::uint8_t {
  mounted,       // mounted as the NAND held it
  restored,      // restored from its backup (decision says why), then mounted
  rebuilt,       // unusable and no backup to restore: reformatted with factory files
  manufactured,  // first boot: formatted, factory files, production-line backup
  failed,        // not brought up (power_lost says whether the power went)
};
std::string_view to_string(FsBootOutcome outcome);

// A booted file system. Members are destroyed bottom-up: the file system and
// the engine before the partitions they use.
struct FsBoot {
  std::unique_ptr<nand::Partition> partition;
  // A file system in a UBI volume (FileSystemSpec::ubi_volume): the device
  // attached on the partition and the volume the file system runs on.
  std::unique_ptr<nand::ubi::UbiDevice> ubi;
  std::unique_ptr<nand::ubi::VolumeDevice> volume;
  BackupSide backup;                   // engine is nullptr without backup partitions
  std::unique_ptr<fs::FileSystem> fs;  // nullptr when outcome is failed
  FsBootOutcome outcome = FsBootOutcome::failed;
  std::optional<fs::Error> mount_error;  // of the first mount (nullopt: it mounted)
  fs::BootDecision decision;             // the engine's (none without an engine)
  bool power_lost = false;
  // What the file system runs on: the UBI volume, or the raw partition.
  nand::Device& device() {
    if (volume) return *volume;
    return *partition;
  }
};

// How a file system comes up, by the guardian in charge of it.
enum class BackupUse : std::uint8_t {
  none,       // mount; unusable: reformat with the factory files
  partition,  // the BG95 partition backup: count the boot, mount, restore when the engine says so
};

// Boots one file system of env.profile; `manufacture` for the first boot of
// a fresh image. The steps above, with or without the partition backup.
FsBoot boot_file_system(const FsBootEnv& env, const FileSystemSpec& fs, bool manufacture,
                        BackupUse backup);

}  // namespace vmodem::sim
