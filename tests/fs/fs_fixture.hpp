// A RAM chip with a formatted file system for tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/storage.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>

namespace vmodem::fs::testing {

inline std::vector<std::uint8_t> bytes(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> out(size);
  nand::Rng rng(seed);
  for (auto& b : out)
    b = static_cast<std::uint8_t>(rng.next());
  return out;
}

inline std::vector<std::uint8_t> text(std::string_view s) {
  return {s.begin(), s.end()};
}

// The medium under the file system: the raw chip (through the injector), or
// a UBI volume on it, as on a Linux module's system and usr_data partitions.
enum class Medium { raw_nand, ubi };

// Chip (RAM) + fault injector + file system. The FS runs on the injector,
// so tests can arm power cuts and faults. On Medium::ubi the injector holds
// a UBI device with one dynamic volume filling it, attached again at every
// mount (after a power cut UBI, like the file system, starts from a scan);
// the volume has as many LEBs as the raw rig would have blocks.
struct Rig {
  explicit Rig(std::uint32_t blocks = 32, Config config = {}, nand::ChipConfig chip_config = {},
               std::uint32_t pages_per_block = 64, Medium on = Medium::raw_nand)
      : cfg(std::move(config)), medium(on) {
    nand::Geometry g;
    g.block_count = medium == Medium::ubi ? ubi_partition_for(blocks) : blocks;
    g.pages_per_block = pages_per_block;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, chip_config);
    injector = std::make_unique<nand::FaultInjector>(*chip, nullptr, 42);
  }
  // The partition whose UBI volume has `lebs` LEBs: UBI keeps two PEBs for
  // the volume table, two for its own copies and its bad-PEB reserve.
  static std::uint32_t ubi_partition_for(std::uint32_t lebs) {
    std::uint32_t pebs = lebs + 4;
    while (pebs - 4 - (20 * pebs + 1023) / 1024 < lebs)
      ++pebs;
    return pebs;
  }
  nand::Device& device() {
    if (medium == Medium::ubi) return *volume;
    return *injector;
  }
  void format() {
    if (medium == Medium::ubi) {
      auto ubi_device = nand::ubi::UbiDevice::attach(*injector);
      ASSERT_TRUE(ubi_device) << ubi_device.error().message();
      ubi = std::move(*ubi_device);
      ASSERT_TRUE(ubi->format());
      ASSERT_TRUE(
          ubi->create_volume(0, "usr_data", nand::ubi::VolumeType::dynamic, ubi->available_pebs()));
      volume = std::make_unique<nand::ubi::VolumeDevice>(*ubi, 0);
    }
    ASSERT_TRUE(FileSystem::format(device(), cfg));
  }
  Result<std::unique_ptr<FileSystem>> try_mount(const MountOptions& options = {}) {
    if (medium == Medium::ubi) {
      fs.reset();  // it holds the volume about to be replaced
      volume.reset();
      auto attached = nand::ubi::UbiDevice::attach(*injector);
      if (!attached) {
        const bool cut = attached.error().code == nand::Errc::power_loss;
        return fail(cut ? Errc::power_loss : Errc::io_error,
                    "UBI attach: " + attached.error().message());
      }
      ubi = std::move(*attached);
      volume = std::make_unique<nand::ubi::VolumeDevice>(*ubi, 0);
    }
    return FileSystem::mount(device(), cfg, options);
  }
  FileSystem& mount(const MountOptions& options = {}) {
    auto m = try_mount(options);
    EXPECT_TRUE(m) << m.error().message();
    fs = m ? std::move(*m) : nullptr;
    return *fs;
  }
  FileSystem& remount() {
    fs.reset();
    return mount();
  }
  Config cfg;
  Medium medium;
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
  std::unique_ptr<nand::FaultInjector> injector;
  std::unique_ptr<nand::ubi::UbiDevice> ubi;        // Medium::ubi
  std::unique_ptr<nand::ubi::VolumeDevice> volume;  // Medium::ubi
  std::unique_ptr<FileSystem> fs;
};

}  // namespace vmodem::fs::testing
