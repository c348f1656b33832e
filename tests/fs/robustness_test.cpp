// Grown bad blocks, scrubbing, wear levelling, and a seeded randomized run
// against an in-memory shadow file system.
#include <cstdio>
#include <map>

#include "fs_fixture.hpp"
#include "tree_model.hpp"

namespace vmodem::fs::testing {
namespace {

TEST(Robustness, ProgramFailRetiresBlockAndKeepsData) {
  Rig rig;
  rig.format();
  auto& fs = rig.mount();
  ASSERT_TRUE(fs.write_file("/a", bytes(20000, 1)));
  nand::FaultRule rule;
  rule.ops = 1 << static_cast<int>(nand::OpKind::program);
  rule.effect = nand::FaultEffect::program_fail;
  rule.n = 3;
  ASSERT_TRUE(rig.injector->add_rule(rule));
  ASSERT_TRUE(fs.write_file("/b", bytes(30000, 2)));
  EXPECT_EQ(fs.counters().blocks_retired, 1u);
  EXPECT_EQ(fs.statfs()->bad_blocks, 1u);
  rig.remount();
  EXPECT_EQ(*rig.fs->read_file("/a"), bytes(20000, 1));
  EXPECT_EQ(*rig.fs->read_file("/b"), bytes(30000, 2));
  EXPECT_EQ(rig.fs->statfs()->bad_blocks, 1u);
}

TEST(Robustness, EraseFailRetiresBlock) {
  Rig rig(12);
  rig.format();
  auto& fs = rig.mount();
  nand::FaultRule rule;
  rule.ops = 1 << static_cast<int>(nand::OpKind::erase);
  rule.effect = nand::FaultEffect::erase_fail;
  rule.n = 2;
  ASSERT_TRUE(rig.injector->add_rule(rule));
  for (std::uint32_t i = 0; i < 40; ++i)
    ASSERT_TRUE(fs.write_file("/f" + std::to_string(i % 4), bytes(30000, i))) << i;
  EXPECT_EQ(fs.counters().blocks_retired, 1u);
  rig.remount();
  for (std::uint32_t i = 36; i < 40; ++i)
    EXPECT_EQ(*rig.fs->read_file("/f" + std::to_string(i % 4)), bytes(30000, i));
}

TEST(Robustness, ScrubRewritesMarginalPage) {
  Rig rig;
  rig.format();
  auto& fs = rig.mount();
  ASSERT_TRUE(fs.write_file("/a", bytes(4096, 1)));
  ASSERT_TRUE(fs.write_file("/z", bytes(10, 2)));
  // Find /a's first data page: the first data page programmed after mount.
  std::vector<std::uint8_t> spare(64);
  bool flipped = false;
  for (std::uint32_t b = 0; b < 32 && !flipped; ++b) {
    for (std::uint32_t p = 0; p < 64 && !flipped; ++p) {
      if (!rig.chip->read({b, p}, {}, spare) || spare[2] != 1) continue;  // kind data
      ASSERT_TRUE(rig.chip->inject_bit_flips({b, p}, 3, 0));
      flipped = true;
    }
  }
  ASSERT_TRUE(flipped);
  EXPECT_EQ(*fs.read_file("/a"), bytes(4096, 1));
  EXPECT_EQ(fs.counters().pages_scrubbed, 1u);
  EXPECT_EQ(*fs.read_file("/a"), bytes(4096, 1));
  EXPECT_EQ(fs.counters().pages_scrubbed, 1u) << "the rewritten page reads clean";
}

TEST(Robustness, WearLevellingSpreadsErases) {
  Config cfg;
  cfg.wear_level_threshold = 8;
  Rig rig(16, cfg);
  rig.format();
  auto& fs = rig.mount();
  ASSERT_TRUE(fs.write_file("/static", bytes(100000, 1)));  // cold data
  for (std::uint32_t i = 0; i < 600; ++i)
    ASSERT_TRUE(fs.write_file("/hot", bytes(6000, i))) << i;
  std::uint32_t lo = ~0u, hi = 0;
  for (std::uint32_t b = 0; b < 16; ++b) {
    lo = std::min(lo, rig.storage->block_meta(b).erase_count);
    hi = std::max(hi, rig.storage->block_meta(b).erase_count);
  }
  std::printf("erase counts after 600 rewrites: min %u max %u\n", lo, hi);
  EXPECT_LE(hi - lo, 3 * cfg.wear_level_threshold);
  EXPECT_GT(lo, 0u) << "the cold data moved";
  EXPECT_EQ(*fs.read_file("/static"), bytes(100000, 1));
}

// Random operations, mirrored on a std::map; the two must agree throughout
// and after every remount.
TEST(Shadow, RandomOperationsMatchModel) {
  const std::uint64_t seed = 777;
  std::printf("shadow test seed %llu\n", static_cast<unsigned long long>(seed));
  Rig rig(24);
  rig.format();
  rig.mount();
  nand::Rng rng(seed);
  Tree model;
  const char* dirs[] = {"", "/d1", "/d2"};
  for (std::uint32_t step = 0; step < 1500; ++step) {
    FileSystem& fs = *rig.fs;
    const std::string dir = dirs[rng.below(3)];
    const std::string name = dir + "/f" + std::to_string(rng.below(6));
    const bool dir_exists = dir.empty() || model.count(dir);
    switch (rng.below(7)) {
      case 0: {
        auto r = fs.mkdir(dir.empty() ? "/d1" : dir);
        if (r) model[dir.empty() ? "/d1" : dir] = std::nullopt;
        break;
      }
      case 1:
      case 2: {
        auto data = bytes(rng.below(9000), static_cast<std::uint32_t>(step));
        auto r = fs.write_file(name, data);
        EXPECT_EQ(r.has_value(), dir_exists) << step << " " << name;
        if (r) model[name] = data;
        break;
      }
      case 3: {
        auto r = fs.unlink(name);
        EXPECT_EQ(r.has_value(), model.count(name) != 0) << step;
        model.erase(name);
        break;
      }
      case 4: {
        const std::string to =
            std::string(dirs[rng.below(3)]) + "/f" + std::to_string(rng.below(6));
        const bool can =
            model.count(name) && (to.rfind("/d", 0) != 0 || model.count(to.substr(0, 3)));
        auto r = fs.rename(name, to);
        EXPECT_EQ(r.has_value(), can) << step << " " << name << " -> " << to;
        if (r && name != to) {
          model[to] = model[name];
          model.erase(name);
        }
        break;
      }
      case 5: {
        if (!model.count(name)) break;
        auto h = fs.open(name, kWrite | kAppend);
        ASSERT_TRUE(h);
        auto extra = bytes(rng.below(3000), static_cast<std::uint32_t>(step) + 1);
        ASSERT_TRUE(fs.write(*h, extra));
        ASSERT_TRUE(fs.close(*h));
        model[name]->insert(model[name]->end(), extra.begin(), extra.end());
        break;
      }
      case 6:
        if (rng.below(10) == 0) rig.remount();
        break;
    }
    if (step % 100 == 99) {
      auto tree = snapshot_tree(*rig.fs);
      ASSERT_TRUE(tree);
      ASSERT_EQ(*tree, model) << "step " << step;
      ASSERT_TRUE(rig.fs->check().ok());
    }
  }
  rig.remount();
  EXPECT_EQ(*snapshot_tree(*rig.fs), model);
}

}  // namespace
}  // namespace vmodem::fs::testing
