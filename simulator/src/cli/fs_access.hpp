// Opening one file system of a module image for an offline tool (`vmodem
// image ls|cat|...`, `vmodem mount`): partition by name or alias, mount with
// the profile's limits, and errors reported with meaningful exit codes.
#pragma once

#include <memory>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>
#include <vmodem/simulator/flash.hpp>

namespace vmodem::cli {

struct FsTarget {
  std::string image;
  std::string profile;    // empty: the one recorded in the image
  std::string partition;  // a file system's name ("modem", "ap"), alias or partition
};

// An image with one partition opened (and, for most tools, mounted).
// Members are destroyed in reverse order: file system, partition, flash.
struct OpenedFs {
  std::unique_ptr<sim::Flash> flash;
  const sim::FileSystemSpec* spec = nullptr;   // in flash->profile()
  const sim::PartitionEntry* entry = nullptr;  // its partition
  std::unique_ptr<nand::Partition> partition;
  std::unique_ptr<nand::ubi::UbiDevice> ubi;        // a file system in a UBI volume
  std::unique_ptr<nand::ubi::VolumeDevice> volume;  // over ubi
  std::unique_ptr<fs::FileSystem> fs;
  // A path the user gave, as a path inside the file system: on a module
  // whose Linux mounts it (EC2x QuecOpen: usrdata at /usrdata), a path at
  // or under that mount point is the module's Linux path
  // ("/usrdata/appbackup" is "/appbackup"); any other path is already one
  // inside the file system.
  std::string inner_path(const std::string& path) const {
    if (!spec || spec->linux_mount.empty() || spec->linux_mount == "/") return path;
    return sim::path_under_mount(spec->linux_mount, path).value_or(path);
  }
  // What the file system runs on: the UBI volume, or the raw partition.
  nand::Device& device() {
    if (volume) return *volume;
    return *partition;
  }
};

// Opens the image and the partition without mounting (fsck, format).
tl::expected<OpenedFs, int> open_partition_or_report(const FsTarget& target, bool read_only);

// Opens and mounts; a failed integrity check prints the probe (kExitCorrupt).
tl::expected<OpenedFs, int> mount_or_report(const FsTarget& target, bool read_only);

// Reports a file-system error about `what`; returns the matching exit code.
int report_fs_error(const std::string& what, const fs::Error& error);

// Commits the file system and flushes the image file (after a change).
int sync_or_report(OpenedFs& opened);

}  // namespace vmodem::cli
