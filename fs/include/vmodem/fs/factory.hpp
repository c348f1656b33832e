// "Manufacture": the factory content of the module's file systems.
//
// Generated content is plausible, deterministic from a seed and a few
// hundred KB in total: the modem FS holds RF calibration and network
// configuration as binary NV items; the AP FS ("UFS") holds USB
// configuration and LwM2M defaults. Every generated file is also a critical
// file (probes 7-8) with its CRC-32.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <vmodem/fs/filesystem.hpp>

namespace vmodem::fs {

struct FactoryFile {
  std::string path;  // absolute, '/'-separated
  std::vector<std::uint8_t> data;
};

// Modem FS: /nv/rfcal/*.bin (per-band calibration tables), /nv/item_files/
// (NV items), /nv/mbn/ (carrier configuration), /cfg/ (network settings).
std::vector<FactoryFile> generate_modem_factory(std::uint64_t seed);
// AP FS: /usb/ (composition, descriptors), /lwm2m/ (server objects,
// bootstrap), /etc/ (misc defaults).
std::vector<FactoryFile> generate_ap_factory(std::uint64_t seed);

// Writes the files (creating parent directories). Stops at the first error.
Status install(FileSystem& fs, const std::vector<FactoryFile>& files);

// Reads a host directory tree (regular files and directories; symlinks and
// others are skipped) as factory files rooted at "/". io_error when the
// directory cannot be read.
Result<std::vector<FactoryFile>> load_host_tree(const std::filesystem::path& dir);

// Copies a host directory tree into the file system (load_host_tree + install).
Status populate_from_host(FileSystem& fs, const std::filesystem::path& dir);

// The critical-file list (path + CRC-32) for probes 7 and 8.
std::vector<CriticalFile> critical_list(const std::vector<FactoryFile>& files);

// CRC-32 of files as stored now, for building a list from a mounted FS.
Result<std::vector<CriticalFile>> checksum_files(FileSystem& fs,
                                                 const std::vector<std::string>& paths);

std::uint64_t total_bytes(const std::vector<FactoryFile>& files);

}  // namespace vmodem::fs
