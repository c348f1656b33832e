// Integrity checks: each of probes 1-9 provoked by damaging a RAM image on
// purpose; the exact probe must be reported by mount and by fsck.
#include <vmodem/fs/placement.hpp>

#include "fs_fixture.hpp"
#include "layout.hpp"  // white-box: forge pages the file system would never write

namespace vmodem::fs::testing {
namespace {

struct Probes : ::testing::Test {
  Probes() {
    rig.format();
    auto& fs = rig.mount();
    EXPECT_TRUE(fs.mkdir("/cfg"));
    EXPECT_TRUE(fs.write_file("/cfg/rf.bin", bytes(5000, 1)));
    EXPECT_TRUE(fs.write_file("/cfg/net.bin", bytes(300, 2)));
    EXPECT_TRUE(fs.write_file("/after", bytes(100, 3)));  // keeps the others off the tail
    rig.fs.reset();
  }
  // The probe mount reports (0 when it mounts), and checks fsck agrees.
  int mount_probe(const CheckOptions& checks = {}) {
    MountOptions options;
    options.checks = checks;
    auto m = rig.try_mount(options);
    const auto report = FileSystem::fsck(rig.device(), rig.cfg, checks);
    if (m) {
      EXPECT_TRUE(report.ok()) << report.first()->describe();
      return 0;
    }
    EXPECT_EQ(m.error().code, Errc::check_failed) << m.error().message();
    if (!m.error().check) return -1;
    EXPECT_FALSE(report.ok());
    if (!report.ok()) {
      EXPECT_EQ(report.first()->probe, m.error().check->probe);
    }
    std::printf("  %s\n", m.error().check->describe().c_str());
    return m.error().check->number();
  }
  // Programs a page with valid tags into an erased block (never used by the FS).
  void forge(std::uint32_t block, std::uint32_t page, layout::Tags tags,
             std::span<const std::uint8_t> main) {
    std::vector<std::uint8_t> spare(64);
    tags.seq = 1000 + block;
    tags.data_crc = layout::page_checksum(main.subspan(0, tags.bytes));
    layout::encode_tags(tags, spare);
    ASSERT_TRUE(rig.chip->program({block, page}, main, spare));
  }
  void forge_header(std::uint32_t object, layout::Header h) {
    std::vector<std::uint8_t> main(2048);
    layout::Tags t;
    t.kind = layout::Kind::header;
    t.object = object;
    t.version = h.version;
    t.bytes = static_cast<std::uint16_t>(layout::encode_header(h, main));
    forge(30, 0, t, main);
  }
  // The newest page (by sequence, page) whose tags satisfy `wanted`, and its
  // tags in `out`.
  template <typename Wanted>
  nand::PageAddr newest(Wanted wanted, layout::Tags* out = nullptr) {
    std::vector<std::uint8_t> spare(64);
    nand::PageAddr best{};
    std::uint64_t best_pos = 0;
    for (std::uint32_t b = 0; b < 32; ++b) {
      for (std::uint32_t p = 0; p < 64; ++p) {
        layout::Tags t;
        if (!rig.chip->read({b, p}, {}, spare)) continue;
        if (layout::decode_tags(spare, 2048, t) != layout::TagState::valid) continue;
        const std::uint64_t pos = std::uint64_t{t.seq} << 16 | p;
        if (wanted(t) && pos > best_pos) {
          best = {b, p};
          best_pos = pos;
          if (out) *out = t;
        }
      }
    }
    EXPECT_GT(best_pos, 0u) << "page not found";
    return best;
  }
  // Where the live copy of these tags is.
  nand::PageAddr find(layout::Kind kind, std::uint32_t object, std::uint32_t chunk = 0) {
    return newest([&](const layout::Tags& t) {
      return t.kind == kind && t.object == object && t.chunk == chunk;
    });
  }
  nand::PageAddr super_page() { return find(layout::Kind::super, layout::kSuperId); }
  std::uint32_t id_of(const std::string& path) {
    auto& fs = rig.mount();
    const auto id = fs.stat(path)->id;
    rig.fs.reset();
    return id;
  }
  Rig rig;
};

TEST_F(Probes, CleanImagePassesEveryCheck) {
  EXPECT_EQ(mount_probe(), 0);
}

TEST_F(Probes, P1_NeverFormatted) {
  Rig blank;
  auto m = blank.try_mount();
  ASSERT_FALSE(m);
  ASSERT_TRUE(m.error().check);
  EXPECT_EQ(m.error().check->probe, Probe::superblock_unreadable);
}

TEST_F(Probes, P1_SuperblockUncorrectable) {
  ASSERT_TRUE(rig.chip->inject_bit_flips(super_page(), 9, 1));
  EXPECT_EQ(mount_probe(), 1);
}

TEST_F(Probes, P2_SuperblockChecksum) {
  std::uint8_t byte = 0x00;
  rig.storage->set_cells(super_page(), 12, {&byte, 1});  // clean garbage: ECC cannot notice
  EXPECT_EQ(mount_probe(), 2);
}

TEST_F(Probes, P2_FormatVersion) {
  std::vector<std::uint8_t> main(2048), spare(64);
  const auto at = super_page();
  ASSERT_TRUE(rig.chip->read(at, main, spare));
  layout::Tags t;
  ASSERT_EQ(layout::decode_tags(spare, 2048, t), layout::TagState::valid);
  layout::Superblock sb;
  ASSERT_EQ(layout::decode_super(main, sb), layout::SuperState::ok);
  sb.version = 99;
  t.bytes = static_cast<std::uint16_t>(layout::encode_super(sb, main));
  t.data_crc = layout::page_checksum({main.data(), t.bytes});
  layout::encode_tags(t, spare);
  spare[0] = spare[1] = 0xFF;
  rig.storage->set_cells(at, 0, main);
  rig.storage->set_cells(at, 2048 + 2, std::span(spare).subspan(2));
  EXPECT_EQ(mount_probe(), 2);
}

TEST_F(Probes, P3_UncorrectableHeader) {
  ASSERT_TRUE(rig.chip->inject_bit_flips(find(layout::Kind::header, id_of("/cfg")), 12, 1));
  EXPECT_EQ(mount_probe(), 3);
}

TEST_F(Probes, P3_UncorrectableTagsInLiveBlock) {
  // rf.bin's first data page, in the middle of a block with live data.
  ASSERT_TRUE(rig.chip->inject_bit_flips(find(layout::Kind::data, id_of("/cfg/rf.bin")), 600, 0));
  EXPECT_EQ(mount_probe(), 3);
}

TEST_F(Probes, P4_GarbageTagsInsideTheLog) {
  std::uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
  rig.storage->set_cells(find(layout::Kind::data, id_of("/cfg/rf.bin")), 2048 + 20, junk);
  EXPECT_EQ(mount_probe(), 4);
}

TEST_F(Probes, P4_DuplicateSequence) {
  std::vector<std::uint8_t> spare(64);
  ASSERT_TRUE(rig.chip->read(super_page(), {}, spare));
  layout::Tags t;
  ASSERT_EQ(layout::decode_tags(spare, 2048, t), layout::TagState::valid);
  std::vector<std::uint8_t> main(2048, 0);
  t.kind = layout::Kind::data;
  t.object = 5000;
  t.bytes = 0;
  t.data_crc = layout::page_checksum({});
  layout::encode_tags(t, spare);  // same sequence number as block 0
  ASSERT_TRUE(rig.chip->program({31, 0}, {}, spare));
  EXPECT_EQ(mount_probe(), 4);
}

// A cut while the commit header of /after's next version was programmed: its
// tags reached the flash, its body did not. The mount rolls that commit back
// (a torn tail, explained). Any later header of the object — the tombstone of
// a delete, a rename — then carries the older version at a newer position:
// that is the rolled-back commit, not a log out of order, and it must never
// fail probe 4 (the soak found the module restoring from backup over it).
struct RolledBackCommit : Probes {
  RolledBackCommit() {
    id = id_of("/after");
    layout::Tags live;
    const nand::PageAddr at = newest_page(live);
    std::vector<std::uint8_t> main(2048), spare(64);
    layout::Header h;
    h.type = 1;
    h.parent = layout::kRootId;
    h.name = "after";
    h.size = 200;
    h.version = 2;
    layout::Tags t;
    t.kind = layout::Kind::header;
    t.object = id;
    t.version = h.version;
    t.seq = live.seq;
    t.erase_count = live.erase_count;
    t.bytes = static_cast<std::uint16_t>(layout::encode_header(h, main));
    t.data_crc = layout::page_checksum({main.data(), t.bytes});
    main[12] ^= 0x5A;  // the body the cut left half-programmed
    layout::encode_tags(t, spare);
    spare[0] = spare[1] = 0xFF;
    EXPECT_TRUE(rig.chip->program({at.block, at.page + 1}, main, spare));
  }
  // The newest page written and its tags.
  nand::PageAddr newest_page(layout::Tags& out) {
    const nand::PageAddr best = newest([](const layout::Tags&) { return true; }, &out);
    EXPECT_LT(best.page + 1, 64U) << "the newest block is full";
    return best;
  }
  std::uint32_t id = 0;
};

TEST_F(RolledBackCommit, TheMountRollsItBack) {
  EXPECT_EQ(mount_probe(), 0);
  EXPECT_EQ(rig.mount().read_file("/after").value(), bytes(100, 3));
}

TEST_F(RolledBackCommit, ADeleteAfterItMountsClean) {
  EXPECT_TRUE(rig.mount().unlink("/after"));
  rig.fs.reset();
  EXPECT_EQ(mount_probe(), 0);
  auto& fs = rig.mount();
  EXPECT_FALSE(fs.stat("/after"));
  EXPECT_EQ(fs.read_file("/cfg/rf.bin").value(), bytes(5000, 1));
}

TEST_F(RolledBackCommit, ARenameAfterItMountsClean) {
  EXPECT_TRUE(rig.mount().rename("/after", "/later"));
  rig.fs.reset();
  EXPECT_EQ(mount_probe(), 0);
  auto& fs = rig.mount();
  EXPECT_FALSE(fs.stat("/after"));
  EXPECT_EQ(fs.read_file("/later").value(), bytes(100, 3));
}

// The same inversion where no cut explains it (the older page is not the tail
// of its block) is still a log out of order.
TEST_F(Probes, P4_HeaderVersionsOutOfOrder) {
  const auto id = id_of("/after");
  layout::Header h;
  h.type = 1;
  h.parent = layout::kRootId;
  h.name = "after";
  h.size = 100;
  h.version = 9;
  std::vector<std::uint8_t> main(2048);
  layout::Tags t;
  t.kind = layout::Kind::header;
  t.object = id;
  t.version = h.version;
  t.bytes = static_cast<std::uint16_t>(layout::encode_header(h, main));
  forge(30, 0, t, main);  // sequence 1030: newer than anything, version 9
  forge(31, 0, t, main);  // sequence 1031: newer still, same version: fine
  t.version = h.version = 3;
  t.bytes = static_cast<std::uint16_t>(layout::encode_header(h, main));
  forge(30, 1, t, main);  // page 1 of sequence 1030, but older than 1031's 9
  EXPECT_EQ(mount_probe(), 4);
}

TEST_F(Probes, P5_OrphanParent) {
  layout::Header h;
  h.type = 1;
  h.parent = 777;
  h.name = "lost";
  forge_header(900, h);
  EXPECT_EQ(mount_probe(), 5);
}

TEST_F(Probes, P5_DuplicateName) {
  layout::Header h;
  h.type = 1;
  h.parent = id_of("/cfg");
  h.name = "rf.bin";
  forge_header(901, h);
  EXPECT_EQ(mount_probe(), 5);
}

TEST_F(Probes, P6_LengthDisagreesWithData) {
  const auto id = id_of("/cfg/net.bin");
  layout::Header h;
  h.type = 1;
  h.parent = id_of("/cfg");
  h.name = "net.bin";
  h.size = 9000;  // 5 chunks, only one exists
  h.version = 1;
  forge_header(id, h);
  EXPECT_EQ(mount_probe(), 6);
}

TEST_F(Probes, P7_CriticalFileMissing) {
  CheckOptions checks;
  checks.critical = {{"/cfg/rf.bin", crc32(bytes(5000, 1))}, {"/cfg/gone.bin", 0}};
  EXPECT_EQ(mount_probe(checks), 7);
}

TEST_F(Probes, P8_CriticalFileChecksum) {
  CheckOptions checks;
  checks.critical = {{"/cfg/rf.bin", crc32(bytes(5000, 1))}, {"/cfg/net.bin", 12345}};
  EXPECT_EQ(mount_probe(checks), 8);
  checks.critical[1].crc32 = crc32(bytes(300, 2));
  EXPECT_EQ(mount_probe(checks), 0);
}

TEST_F(Probes, P9_TooManyBadBlocks) {
  for (std::uint32_t b = 20; b < 28; ++b)
    rig.chip->manufacture_bad_block(b);
  EXPECT_EQ(mount_probe(), 9);
}

// Full, and the blocks it kept free went bad: the log cannot write a page
// (reclaiming a block with live pages needs an erased block to copy into),
// while the bad blocks stay under the limit.
TEST_F(Probes, P9_NoErasedBlockLeft) {
  auto& fs = rig.mount();
  for (std::uint32_t n = 0; fs.write_file("/fill" + std::to_string(n), bytes(20000, n)); ++n) {
  }
  rig.fs.reset();
  auto map = map_pages(rig.device(), rig.cfg);
  ASSERT_TRUE(map) << map.error().message();
  std::uint32_t marked = 0;
  for (const auto& b : map->blocks) {
    if (b.bad || !b.live.empty()) continue;
    rig.chip->manufacture_bad_block(b.block);
    ++marked;
  }
  ASSERT_GT(marked, 0U);
  ASSERT_LE(marked * 100, rig.cfg.max_bad_block_percent * 32U) << "not the bad-block limit";
  EXPECT_EQ(mount_probe(), 9);
}

TEST_F(Probes, FullButWithAnErasedBlockMounts) {
  auto& fs = rig.mount();
  for (std::uint32_t n = 0; fs.write_file("/fill" + std::to_string(n), bytes(20000, n)); ++n) {
  }
  rig.fs.reset();
  EXPECT_EQ(mount_probe(), 0);
}

// The page map names where the superblock, headers and data live.
TEST_F(Probes, PageMapLocatesStructures) {
  auto map = map_pages(rig.device(), rig.cfg);
  ASSERT_TRUE(map) << map.error().message();
  EXPECT_EQ(map->pages_per_block, 64U);
  ASSERT_EQ(map->blocks.size(), 32U);
  EXPECT_EQ((nand::PageAddr{map->superblock_block, map->superblock_page}), super_page());
  const auto header = find(layout::Kind::header, id_of("/cfg"));
  const auto data = find(layout::Kind::data, id_of("/cfg/rf.bin"), 2);
  std::uint32_t rf_chunks = 0;
  bool header_seen = false, data_seen = false;
  for (const auto& b : map->blocks) {
    for (const auto& lp : b.live) {
      EXPECT_LT(lp.page, b.written);
      if (lp.path == "/cfg/rf.bin" && lp.role == PageRole::data) ++rf_chunks;
      if (nand::PageAddr{b.block, lp.page} == header) {
        header_seen = lp.role == PageRole::header && lp.directory && lp.path == "/cfg";
      }
      if (nand::PageAddr{b.block, lp.page} == data) {
        data_seen = lp.role == PageRole::data && lp.chunk == 2 && lp.path == "/cfg/rf.bin";
      }
    }
  }
  EXPECT_EQ(rf_chunks, 3U) << "5000 bytes in 2 KB pages";
  EXPECT_TRUE(header_seen);
  EXPECT_TRUE(data_seen);
  Rig blank;
  auto none = map_pages(blank.device(), blank.cfg);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::check_failed);
}

TEST_F(Probes, DeepCheckFindsDamagedData) {
  // /cfg/rf.bin's second data page: flips beyond ECC in its main area.
  auto& fs = rig.mount();
  EXPECT_TRUE(fs.check({{}, true}).ok());
  rig.fs.reset();
  const auto page = find(layout::Kind::data, id_of("/cfg/rf.bin"), 1);
  ASSERT_TRUE(rig.chip->inject_bit_flips(page, 12, 2));
  EXPECT_EQ(mount_probe(), 0) << "mount does not read data pages";
  const auto report = FileSystem::fsck(rig.device(), rig.cfg, {{}, true});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first()->probe, Probe::data_ecc) << "a data error, not metadata";
  EXPECT_TRUE(report.first()->is_data_error());
  EXPECT_EQ(report.first()->number(), 0) << "no boot probe point";
  EXPECT_EQ(rig.mount().read_file("/cfg/rf.bin").error().code, Errc::corrupt);
}

TEST(ProbeNames, Stable) {
  EXPECT_EQ(probe_name(Probe::superblock_unreadable), "superblock_unreadable");
  EXPECT_EQ(probe_name(Probe::no_space), "no_space");
  CheckFailure f{Probe::metadata_ecc, 4, 7, 12, "/a", "bad"};
  EXPECT_EQ(f.describe(), "probe 3 metadata_ecc at block 4 page 7 object 12 (/a): bad");
  EXPECT_EQ(f.describe(1030),
            "probe 3 metadata_ecc at block 4 (physical 1030) page 7 object 12 (/a): bad");
  CheckFailure data{Probe::data_checksum, 4, 7, 12, "/a", "bad"};
  EXPECT_EQ(data.describe(), "data error data_checksum at block 4 page 7 object 12 (/a): bad");
}

}  // namespace
}  // namespace vmodem::fs::testing
