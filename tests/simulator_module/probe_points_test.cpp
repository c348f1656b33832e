// Boot probe points 1-10 (SPEC §4) provoked on purpose in a running module
// (in-process Module, its AT port opened like a host), for the modem FS
// (efs2) and the AP FS (usrfs). Each case:
//
//   a file kept.txt is put in the file system and backed up (AT+QPRTPARA=1/11);
//   then kept.txt is deleted, after.bin created, and the file system damaged
//   the way the probe point describes — with the module off (the damage
//   `ctl inject` and `vmodem image` apply, or a cell-level edit the ECC cannot
//   see), while it runs (corrupt-file, probe 8), or by power cuts during boot
//   (probe 10);
//   the next power-on must restore the file system from its backup: one
//   RESTORE event naming the probe point, exactly that probe counter +1 in
//   AT+QPRTPARA=4/=14 (nothing else moved on either file system), kept.txt
//   back and after.bin gone.
//
// tests/e2e/probe_e2e_test.cpp runs two of these through the real binary,
// its control socket and the offline image tools.
#include <algorithm>

#include <gtest/gtest.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/fs/placement.hpp>

#include "bytes.hpp"
#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using e2e::Host;
using vmodem::testing::bytes_of;
using vmodem::testing::pattern;

struct Case {
  std::string name;
  std::string fs;  // "modem" or "ap"
  int probe;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// `ctl inject corrupt-file`: the file's bytes change, its checksum does not.
InjectRequest corrupt_file(const std::string& file_system, const std::string& path) {
  InjectRequest request;
  request.kind = InjectRequest::Kind::corrupt_file;
  request.file_system = file_system;
  request.path = path;
  return request;
}

std::string partition_of(const std::string& fs) {
  return fs == "ap" ? "usrfs" : "efs2";
}
std::string critical_file(const std::string& fs) {
  return fs == "ap" ? "/usb/vid_pid" : "/nv/rfcal/gsm_2.bin";
}

class ProbePoint : public ::testing::TestWithParam<Case> {
 protected:
  const Case& c() const { return GetParam(); }
  std::string part() const { return partition_of(c().fs); }
  Module& module() { return m_.module(); }

  void boot() {
    ASSERT_TRUE(m_.ok());
    m_.power_on();
    ASSERT_TRUE(m_.wait_power(PowerState::app_rdy));
  }
  void power_on_and_wait() {
    m_.clear_events();
    m_.power_on();
    ASSERT_TRUE(m_.wait_power(PowerState::app_rdy));
  }
  void power_cut() {
    ASSERT_TRUE(m_.on_io([this] { return module().power_cut(PowerCutRequest{}); }));
    ASSERT_TRUE(m_.wait_power(PowerState::off));
  }
  // With the module off, on its thread: the module's own flash powered as
  // the image tools power an image, `edit` given the partition, the power
  // off again.
  template <class F>
  void edit_offline(F edit) {
    m_.on_io([&] {
      module().flash().lock().faults().power_up();
      auto partition = module().flash().partition(part());
      if (partition) edit(**partition);
      module().flash().lock().faults().cut_power();
      ASSERT_TRUE(partition) << partition.error().message();
    });
  }
  static void mounted(nand::Partition& partition, const std::function<void(fs::FileSystem&)>& f) {
    auto fs = fs::FileSystem::mount(partition, fs::Config{}, fs::MountOptions{});
    ASSERT_TRUE(fs) << fs.error().message();
    f(**fs);
  }
  void inject(const InjectRequest& request) {
    const auto done = m_.on_io([&] { return module().inject(request); });
    ASSERT_TRUE(done) << done.error().desc;
  }
  e2e::RestoreCounters counters_of(const std::string& which) {
    const auto info = m_.on_io([&] { return module().backup_info(which); });
    EXPECT_TRUE(info) << info.error().desc;
    if (!info) return {};
    e2e::RestoreCounters counters{.restores = info->info.restore_count};
    std::copy(info->info.probe_counts.begin(), info->info.probe_counts.end(),
              counters.probes.begin());
    return counters;
  }
  std::string at(const std::string& line) {
    Host host(m_.port());
    host.command("ATE0");
    return host.command(line, 5000ms);
  }

  void setup_backup();
  void damage();
  void damage_offline(nand::Partition& partition);

  ModuleHarness m_{builtin()};
};

// kept.txt in the backup: the production-line backup is replaced by one
// that holds it.
void ProbePoint::setup_backup() {
  power_cut();
  edit_offline([](nand::Partition& p) {
    mounted(p, [](fs::FileSystem& fs) {
      ASSERT_TRUE(fs.write_file("/kept.txt", bytes_of("kept by the backup")));
    });
  });
  power_on_and_wait();
  ASSERT_EQ(at(c().fs == "ap" ? "AT+QPRTPARA=11" : "AT+QPRTPARA=1"), "\r\nOK\r\n");
}

// A live page that is not the last one written in its block (a torn tail is
// explained by design and never fails a check).
template <class Wanted>
std::pair<std::uint32_t, std::uint32_t> pick_page(const fs::Placement& map, Wanted wanted) {
  for (const auto& b : map.blocks) {
    for (const auto& lp : b.live) {
      if (lp.page + 1 < b.written && wanted(lp)) return {b.block, lp.page};
    }
  }
  ADD_FAILURE() << "no page found";
  return {0, 0};
}

void ProbePoint::damage_offline(nand::Partition& partition) {
  mounted(partition, [](fs::FileSystem& fs) {
    ASSERT_TRUE(fs.unlink("/kept.txt"));
    // Large enough to fill whole blocks with its data alone.
    ASSERT_TRUE(fs.write_file("/after.bin", pattern(300 * 1024, 7)));
  });
  auto map = fs::map_pages(partition, fs::Config{});
  ASSERT_TRUE(map) << map.error().message();
  // Rewrites cells behind the ECC's back: a page that reads cleanly with
  // wrong bytes — what a miscorrection or a corrupted program leaves, which
  // the NAND model's ECC (it never miscorrects) cannot produce by itself.
  auto set_cells = [&](std::uint32_t block, std::uint32_t page, std::uint32_t offset,
                       std::span<const std::uint8_t> bytes) {
    module().flash().lock().storage().set_cells({partition.physical_block(block), page}, offset,
                                                bytes);
  };
  auto uncorrectable = [&](std::uint32_t block, std::uint32_t page) {
    InjectRequest request;
    request.kind = InjectRequest::Kind::uncorrectable;
    request.partition = part();
    request.block = block;
    request.page = page;
    const auto done = module().inject(request);
    ASSERT_TRUE(done) << done.error().desc;
  };
  // A block's bad-block marker, written as `vmodem image mark-bad` does.
  auto mark_bad = [&](std::uint32_t physical) {
    ASSERT_TRUE(module().flash().lock().chip().mark_bad(physical));
  };
  switch (c().probe) {
    case 1:  // the superblock page unreadable (uncorrectable ECC)
      uncorrectable(map->superblock_block, map->superblock_page);
      break;
    case 2: {  // the superblock reads cleanly but fails its checksum
      const std::uint8_t junk = 0x00;
      set_cells(map->superblock_block, map->superblock_page, 12, {&junk, 1});
      break;
    }
    case 3: {  // a file's object header unreadable (uncorrectable ECC)
      const auto [b, pg] = pick_page(*map, [](const fs::LivePage& lp) {
        return lp.role == fs::PageRole::header && !lp.directory;
      });
      uncorrectable(b, pg);
      break;
    }
    case 4: {  // a page inside the log whose tags fail their checksum
      const auto [b, pg] = pick_page(*map, [](const fs::LivePage& lp) {
        return lp.role == fs::PageRole::data && lp.path == "/after.bin";
      });
      const std::uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
      set_cells(b, pg, partition.geometry().page_size + 20, junk);
      break;
    }
    case 5: {  // a directory's block lost: its files are orphans
      const auto it = std::find_if(map->blocks.begin(), map->blocks.end(), [](const auto& b) {
        const auto has = [&](auto&& what) {
          return std::any_of(b.live.begin(), b.live.end(), what);
        };
        return has([](auto& lp) { return lp.role == fs::PageRole::header && lp.directory; }) &&
               !has([](auto& lp) { return lp.role == fs::PageRole::superblock; });
      });
      ASSERT_NE(it, map->blocks.end()) << "no block with a directory header";
      mark_bad(partition.physical_block(it->block));
      break;
    }
    case 6: {  // a block of file data lost: the file is shorter than its length
      const auto it = std::find_if(map->blocks.begin(), map->blocks.end(), [](const auto& b) {
        return !b.live.empty() && std::all_of(b.live.begin(), b.live.end(), [](auto& lp) {
          return lp.role == fs::PageRole::data;
        });
      });
      ASSERT_NE(it, map->blocks.end()) << "no block holding only file data";
      mark_bad(partition.physical_block(it->block));
      break;
    }
    case 7:  // a boot-critical file deleted
      mounted(partition,
              [&](fs::FileSystem& fs) { ASSERT_TRUE(fs.unlink(critical_file(c().fs))); });
      break;
    case 9: {  // full, and the blocks it kept free went bad: no erased block left
      mounted(partition, [](fs::FileSystem& fs) {
        for (int i = 0; i < 200; ++i) {
          const std::size_t size = i < 100 ? 256 * 1024 : 4096;
          if (!fs.write_file("/fill" + std::to_string(i), pattern(size, i))) {
            if (size == 4096) break;
            i = 99;
          }
        }
      });
      auto full = fs::map_pages(partition, fs::Config{});
      ASSERT_TRUE(full) << full.error().message();
      // Physical numbers first: the logical numbering skips bad blocks, so it
      // shifts as soon as one more is marked.
      std::vector<std::uint32_t> erased;
      std::uint32_t bad = 0;
      for (const auto& b : full->blocks) {
        if (b.bad) {
          ++bad;
        } else if (b.live.empty()) {
          erased.push_back(partition.physical_block(b.block));
        }
      }
      ASSERT_FALSE(erased.empty());
      // Under the bad-block limit (20%): the probe fails for want of space alone.
      ASSERT_LT((bad + erased.size()) * 100, 20U * partition.geometry().block_count);
      for (const auto physical : erased)
        mark_bad(physical);
      break;
    }
    default:  // 8 and 10 strike while the module runs or boots
      break;
  }
}

void ProbePoint::damage() {
  if (c().probe == 8) {
    // A boot-critical file rewritten with wrong bytes while the module runs.
    inject(corrupt_file(c().fs, critical_file(c().fs)));
    if (HasFatalFailure()) return;
  }
  power_cut();
  edit_offline([this](nand::Partition& p) { damage_offline(p); });
  if (c().probe != 10) return;
  // Three boots that never complete: the power goes while the file system
  // is being mounted, each time (its 100th read: past the bad-block scan of
  // the partition, one read per block, into the mount's tag scan).
  for (int boot = 0; boot < 3; ++boot) {
    PowerCutRequest cut;
    cut.when = PowerCutRequest::When::partition_operation;
    cut.partition = part();
    cut.op_kinds = 1U << static_cast<unsigned>(nand::OpKind::read);
    cut.operations = 100;
    ASSERT_TRUE(m_.on_io([&] { return module().power_cut(cut); }));
    m_.clear_events();
    m_.power_on();
    ASSERT_TRUE(m_.wait_power(PowerState::off));
    ASSERT_TRUE(m_.wait_event("NAND_FAULT")) << "the cut struck during the boot";
  }
}

TEST_P(ProbePoint, RestoresAndCountsItsOwnProbePoint) {
  boot();
  setup_backup();
  if (HasFatalFailure()) return;
  const e2e::RestoreCounters modem_before = counters_of("modem"), ap_before = counters_of("ap");

  damage();
  if (HasFatalFailure()) return;
  power_on_and_wait();

  const auto restores = m_.named("RESTORE");
  ASSERT_EQ(restores.size(), 1U);
  EXPECT_EQ(restores[0]["file_system"], c().fs);
  EXPECT_EQ(restores[0]["probe_point"], c().probe) << restores[0].dump();
  EXPECT_TRUE(m_.named("FS_REBUILT").empty());

  e2e::RestoreCounters modem_want = modem_before, ap_want = ap_before;
  e2e::RestoreCounters& want = c().fs == "ap" ? ap_want : modem_want;
  want.restores += 1;
  want.probes[c().probe - 1] += 1;
  EXPECT_EQ(e2e::modem_restore_counters(at("AT+QPRTPARA=4")), modem_want)
      << "AT+QPRTPARA=4: only the modem FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(e2e::ap_restore_counters(at("AT+QPRTPARA=14")), ap_want)
      << "AT+QPRTPARA=14: only the AP FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(counters_of("modem"), modem_want);
  EXPECT_EQ(counters_of("ap"), ap_want);

  // What the host finds in the file system the module runs.
  m_.on_io([this] {
    fs::SharedFileSystem* shared = module().file_system(c().fs);
    ASSERT_NE(shared, nullptr);
    const auto fs = shared->lock();
    auto kept = fs->read_file("/kept.txt");
    ASSERT_TRUE(kept) << "the deleted file is back";
    EXPECT_EQ(*kept, bytes_of("kept by the backup"));
    EXPECT_FALSE(fs->stat("/after.bin")) << "the file created after the backup is gone";
  });
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* fs : {"modem", "ap"}) {
    for (int probe = 1; probe <= 10; ++probe)
      out.push_back({std::string(fs) + "_p" + std::to_string(probe), fs, probe});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(BothFileSystems, ProbePoint, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// A backup taken after a boot-critical file went bad cannot cure probe 8:
// the restored tree fails the same check, the restore is not counted, and
// the module refills the file system with its factory content (FS_REBUILT).
TEST(ProbeFallback, BackupHoldingABadCriticalFileFallsBackToFactoryContent) {
  ModuleHarness m{builtin()};
  ASSERT_TRUE(m.ok());
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  Module& module = m.module();
  const auto corrupted = m.on_io([&] { return module.inject(corrupt_file("ap", "/usb/vid_pid")); });
  ASSERT_TRUE(corrupted) << corrupted.error().desc;
  {
    Host host(m.port());
    host.command("ATE0");
    ASSERT_EQ(host.command("AT+QPRTPARA=11", 5000ms), "\r\nOK\r\n");
  }
  const auto before = m.on_io([&] { return module.backup_info("ap"); });
  ASSERT_TRUE(before);
  ASSERT_TRUE(m.on_io([&] { return module.power_cut(PowerCutRequest{}); }));
  ASSERT_TRUE(m.wait_power(PowerState::off));
  m.clear_events();
  m.power_on();
  ASSERT_TRUE(m.wait_power(PowerState::app_rdy));
  EXPECT_TRUE(m.named("RESTORE").empty());
  const auto rebuilt = m.named("FS_REBUILT");
  ASSERT_EQ(rebuilt.size(), 1U);
  EXPECT_EQ(rebuilt[0]["file_system"], "ap");
  EXPECT_EQ(rebuilt[0]["probe_point"], 8);
  const auto after = m.on_io([&] { return module.backup_info("ap"); });
  ASSERT_TRUE(after);
  EXPECT_EQ(after->info.restore_count, before->info.restore_count)
      << "a restore that did not cure the file system is not counted";
  EXPECT_EQ(after->info.probe_counts, before->info.probe_counts);
  m.on_io([&] {
    fs::SharedFileSystem* shared = module.ap_fs();
    ASSERT_NE(shared, nullptr);
    const auto fs = shared->lock();
    EXPECT_EQ(fs->read_file("/usb/vid_pid").value_or(Bytes{}), bytes_of("2c7c:0700\n"))
        << "the factory content is back";
  });
}

}  // namespace
}  // namespace vmodem::sim::testing
