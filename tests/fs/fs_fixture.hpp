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

// Chip (RAM) + fault injector + file system. The FS runs on the injector,
// so tests can arm power cuts and faults.
struct Rig {
  explicit Rig(std::uint32_t blocks = 32, Config config = {}, nand::ChipConfig chip_config = {},
               std::uint32_t pages_per_block = 64)
      : cfg(std::move(config)) {
    nand::Geometry g;
    g.block_count = blocks;
    g.pages_per_block = pages_per_block;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, chip_config);
    injector = std::make_unique<nand::FaultInjector>(*chip, nullptr, 42);
  }
  nand::Device& device() { return *injector; }
  void format() { ASSERT_TRUE(FileSystem::format(device(), cfg)); }
  Result<std::unique_ptr<FileSystem>> try_mount(const MountOptions& options = {}) {
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
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
  std::unique_ptr<nand::FaultInjector> injector;
  std::unique_ptr<FileSystem> fs;
};

}  // namespace vmodem::fs::testing
