// A RAM chip with a file-system partition and its backup data/info
// partitions, all behind one fault injector (cuts hit every layer).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/storage.hpp>

#include "../fs/fs_fixture.hpp"  // bytes(), text()

namespace vmodem::fs::testing {

// What a restore must reproduce: directories and file contents.
struct Tree {
  std::set<std::string> dirs;
  std::map<std::string, std::vector<std::uint8_t>> files;
  bool operator==(const Tree&) const = default;
};

inline void walk(FileSystem& fs, const std::string& dir, Tree& out) {
  auto list = fs.readdir(dir);
  ASSERT_TRUE(list) << list.error().message();
  for (const auto& e : *list) {
    const std::string path = (dir == "/" ? dir : dir + "/") + e.name;
    if (e.type == FileType::directory) {
      out.dirs.insert(path);
      walk(fs, path, out);
    } else {
      auto data = fs.read_file(path);
      ASSERT_TRUE(data) << path << ": " << data.error().message();
      out.files[path] = std::move(*data);
    }
  }
}
inline Tree tree_of(FileSystem& fs) {
  Tree t;
  walk(fs, "/", t);
  return t;
}

struct BackupRig {
  // 32 blocks (4 MB) of file system, 10 blocks of backup data, 4 of info.
  static constexpr std::uint32_t kFsBlocks = 32, kDataBlocks = 10, kInfoBlocks = 4;

  explicit BackupRig(BackupOptions opts = {}, std::vector<std::uint32_t> factory_bad = {})
      : options(std::move(opts)) {
    nand::Geometry g;
    g.block_count = kFsBlocks + kDataBlocks + kInfoBlocks + 2;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, nand::ChipConfig{});
    for (auto b : factory_bad)
      chip->manufacture_bad_block(b);
    table = nand::PartitionTable::create({{"efs2", 0, kFsBlocks},
                                          {"efs_backup", kFsBlocks, kDataBlocks},
                                          {"efs_info", kFsBlocks + kDataBlocks, kInfoBlocks}},
                                         g)
                .value();
    injector = std::make_unique<nand::FaultInjector>(*chip, &table, 7);
    open_partitions();
  }

  void open_partitions() {
    fs.reset();
    engine.reset();
    fs_part = std::move(nand::Partition::open(*injector, table.entries()[0]).value());
    data_part = std::move(nand::Partition::open(*injector, table.entries()[1]).value());
    info_part = std::move(nand::Partition::open(*injector, table.entries()[2]).value());
  }
  // The engine over the current partitions.
  BackupEngine& open_engine() {
    auto e = BackupEngine::open(*fs_part, *data_part, *info_part, options);
    EXPECT_TRUE(e) << e.error().message();
    engine = e ? std::move(*e) : nullptr;
    return *engine;
  }
  // Power comes back: fresh partitions (bad-block rescan) and engine.
  BackupEngine& power_cycle() {
    chip->power_up();
    injector->clear_rules();
    open_partitions();
    return open_engine();
  }
  void format() { ASSERT_TRUE(FileSystem::format(*fs_part, options.fs_config)); }
  Result<std::unique_ptr<FileSystem>> try_mount() {
    return FileSystem::mount(*fs_part, options.fs_config);
  }
  FileSystem& mount() {
    auto m = try_mount();
    EXPECT_TRUE(m) << m.error().message();
    fs = m ? std::move(*m) : nullptr;
    return *fs;
  }
  void unmount() { fs.reset(); }
  void put(std::string_view path, const std::vector<std::uint8_t>& data) {
    ASSERT_TRUE(fs->write_file(path, data)) << path;
  }
  // Mounts (after at_boot's decision) and returns the tree.
  Tree mounted_tree() {
    mount();
    return fs ? tree_of(*fs) : Tree{};
  }

  BackupOptions options;
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
  nand::PartitionTable table;
  std::unique_ptr<nand::FaultInjector> injector;
  std::unique_ptr<nand::Partition> fs_part, data_part, info_part;
  std::unique_ptr<BackupEngine> engine;
  std::unique_ptr<FileSystem> fs;
};

// A small factory-like tree: directories, a few files, one of 40 KB.
inline void fill_factory(BackupRig& rig) {
  auto& fs = *rig.fs;
  ASSERT_TRUE(fs.mkdir("/nv"));
  ASSERT_TRUE(fs.mkdir("/nv/item_files"));
  rig.put("/nv/item_files/rf_cal", bytes(40000, 1));
  rig.put("/nv/item_files/band_pref", text("LTE-M B3 B8 B20"));
  rig.put("/usb_cfg", text("composition=9025"));
  rig.put("/empty", {});
}

}  // namespace vmodem::fs::testing
