// EC2x QuecOpen benchmarks (issue 16), in process on a simulated chip, each
// next to its baseline measured in the same run (wall time: the FUSE
// baseline's work is on the FUSE thread):
//
//  * BM_UbiAttachAndMount: UBI's attach of a 64 MB partition (the scan of
//    every block's headers: attach_ms) and all a boot does to reach the
//    files through it (the partition's open, the attach, the mount of the
//    NAND file system in its volume: ubi_ms), against opening a raw 64 MB
//    partition holding the same file system with the same 2 MB of files
//    and mounting it (plain_ms), in the same iterations;
//  * BM_AppSync200 / BM_CpOverFuse200: the application sync of seed 001
//    (quecopen::sync_apps through the page cache, then sync) copying a
//    200-file / 2 MB application from system into an empty usr_data —
//    time and NAND operations — against `cp -r` of the same tree from the
//    host into usr_data through a FUSE mount of it (files committed at
//    close, as the module's mounts do);
//  * BM_SyncCampaignBranched / BM_SyncCampaignReplayed: the power-cut
//    campaign over a sync of a three-file application (a cut at every NAND
//    operation, mode "before", the verdict's boot attaching, mounting and
//    running the sync again): cuts per second on this thread, each cut
//    branched off one uncut run against each replayed from a snapshot.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/fs/fuse.hpp>
#include <vmodem/fs/shared.hpp>
#include <vmodem/fs/write_back.hpp>
#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/rng.hpp>
#include <vmodem/nand/storage.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>

#include "quecopen/app_sync.hpp"

namespace {

using namespace vmodem;
using Bytes = std::vector<std::uint8_t>;
namespace stdfs = std::filesystem;

constexpr int kFiles = 200;
constexpr std::size_t kFileBytes = 10485;  // 200 files: 2,097,000 bytes
constexpr std::uint32_t kBlocks64M = 512;  // 128 KiB blocks

Bytes file_content(int i, std::size_t size) {
  nand::Rng rng(static_cast<std::uint64_t>(i) + 1);
  Bytes out(size);
  for (auto& b : out)
    b = static_cast<std::uint8_t>('a' + rng.below(26));
  return out;
}

// A chip of `blocks` blocks in RAM, its injector counting operations.
struct Chip {
  explicit Chip(std::uint32_t blocks) {
    nand::Geometry g;
    g.block_count = blocks;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, nand::ChipConfig{});
    injector = std::make_unique<nand::FaultInjector>(*chip, nullptr, 7);
  }
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
  std::unique_ptr<nand::FaultInjector> injector;
};

// A partition mounted: through UBI (a volume filling it) or raw.
struct Mounted {
  std::unique_ptr<nand::Partition> partition;
  std::unique_ptr<nand::ubi::UbiDevice> ubi;
  std::unique_ptr<nand::ubi::VolumeDevice> volume;
  std::unique_ptr<fs::FileSystem> fs;
};

Mounted mount(Chip& chip, const nand::PartitionSpec& spec, bool ubi) {
  Mounted m;
  m.partition = std::move(nand::Partition::open(*chip.injector, spec).value());
  nand::Device* device = m.partition.get();
  if (ubi) {
    m.ubi = std::move(nand::ubi::UbiDevice::attach(*m.partition).value());
    m.volume = std::make_unique<nand::ubi::VolumeDevice>(*m.ubi, 0);
    device = m.volume.get();
  }
  m.fs = std::move(fs::FileSystem::mount(*device, fs::Config{}).value());
  return m;
}

void format(Chip& chip, const nand::PartitionSpec& spec, bool ubi) {
  auto partition = std::move(nand::Partition::open(*chip.injector, spec).value());
  if (!ubi) {
    (void)fs::FileSystem::format(*partition, fs::Config{});
    return;
  }
  auto device = std::move(nand::ubi::UbiDevice::attach(*partition).value());
  (void)device->format();
  (void)device->create_volume(0, spec.name, nand::ubi::VolumeType::dynamic,
                              device->available_pebs());
  nand::ubi::VolumeDevice volume(*device, 0);
  (void)fs::FileSystem::format(volume, fs::Config{});
}

// The application on system: `files` files of `bytes` each and tag 2.
void install_app(fs::FileSystem& fs, int files, std::size_t bytes) {
  for (const char* dir : {"/usrapp", "/usrapp/apprun", "/usrapp/apprun/apps"})
    (void)fs.mkdir(dir);
  for (int i = 0; i < files; ++i) {
    (void)fs.write_file("/usrapp/apprun/apps/f" + std::to_string(i) + ".py",
                        file_content(i, bytes));
  }
  const std::string tag = "2\n";
  (void)fs.write_file("/usrapp/apprun/app_ver.txt", Bytes(tag.begin(), tag.end()));
}

// --- UBI attach against the plain mount -----------------------------------

// Blocks 0-511: UBI with the file system in its volume; 512-1023 the same
// file system raw; both holding the 200-file application.
struct AttachRig {
  AttachRig() : chip(2 * kBlocks64M) {
    for (const bool ubi : {true, false}) {
      format(chip, spec(ubi), ubi);
      auto m = mount(chip, spec(ubi), ubi);
      install_app(*m.fs, kFiles, kFileBytes);
      (void)m.fs->sync();
    }
  }
  static nand::PartitionSpec spec(bool ubi) {
    return {ubi ? "system" : "raw", ubi ? 0 : kBlocks64M, kBlocks64M};
  }
  Chip chip;
};

AttachRig& attach_rig() {
  static AttachRig rig;
  return rig;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Each iteration mounts both ways, alternating which goes first (the second
// finds the flash's cells in the CPU caches the first warmed); the ratios
// are of medians. UBI's side is timed in its two steps: the attach (after
// the partition's open) and the mount in the volume.
void BM_UbiAttachAndMount(benchmark::State& state) {
  AttachRig& rig = attach_rig();
  std::vector<double> attach, ubi_total, plain;
  const auto with_ubi = [&] {
    const auto start = std::chrono::steady_clock::now();
    auto partition =
        std::move(nand::Partition::open(*rig.chip.injector, AttachRig::spec(true)).value());
    const auto attach_start = std::chrono::steady_clock::now();
    auto ubi = std::move(nand::ubi::UbiDevice::attach(*partition).value());
    attach.push_back(seconds_since(attach_start));
    nand::ubi::VolumeDevice volume(*ubi, 0);
    auto fs = std::move(fs::FileSystem::mount(volume, fs::Config{}).value());
    ubi_total.push_back(seconds_since(start));
  };
  const auto without = [&] {
    const auto start = std::chrono::steady_clock::now();
    auto m = mount(rig.chip, AttachRig::spec(false), false);
    benchmark::DoNotOptimize(m.fs.get());
    plain.push_back(seconds_since(start));
  };
  bool ubi_first = true;
  for (auto _ : state) {
    if (ubi_first) {
      with_ubi();
      without();
    } else {
      without();
      with_ubi();
    }
    ubi_first = !ubi_first;
  }
  state.counters["attach_ms"] = median(attach) * 1e3;
  state.counters["ubi_ms"] = median(ubi_total) * 1e3;
  state.counters["plain_ms"] = median(plain) * 1e3;
  state.counters["attach_x_plain"] = median(attach) / median(plain);
  state.counters["ubi_x_plain"] = median(ubi_total) / median(plain);
}
BENCHMARK(BM_UbiAttachAndMount)->Iterations(301)->Unit(benchmark::kMillisecond);

// --- The sync against cp -r over FUSE -------------------------------------

// system (blocks 0-127) holds the application, usr_data (128-255) is empty;
// the flash is snapshotted there and rolled back before each run.
struct SyncRig {
  SyncRig() : chip(256) {
    for (int i = 0; i < 2; ++i)
      format(chip, spec(i), true);
    auto system = mount(chip, spec(0), true);
    install_app(*system.fs, kFiles, kFileBytes);
    (void)system.fs->sync();
    chip.storage->snapshot_begin();
  }
  static nand::PartitionSpec spec(int i) {
    return {i == 0 ? "system" : "usr_data", static_cast<std::uint32_t>(128 * i), 128};
  }
  void rewind() {
    chip.storage->snapshot_rollback();
    chip.injector->reset_operation_count();
  }
  Chip chip;
};

SyncRig& sync_rig() {
  static SyncRig rig;
  return rig;
}

void BM_AppSync200(benchmark::State& state) {
  SyncRig& rig = sync_rig();
  std::uint64_t operations = 0;
  for (auto _ : state) {
    state.PauseTiming();
    rig.rewind();
    auto system = mount(rig.chip, SyncRig::spec(0), true);
    auto usrdata = mount(rig.chip, SyncRig::spec(1), true);
    const auto before = rig.chip.injector->operation_count();
    state.ResumeTiming();
    fs::WriteBackConfig config;
    config.flusher_one_in = 3;
    fs::WriteBack system_cache(*system.fs, config, [] { return std::int64_t{0}; });
    fs::WriteBack backup_cache(*usrdata.fs, config, [] { return std::int64_t{0}; });
    sim::quecopen::AppSide from{system.fs.get(), &system_cache, "/usrapp/apprun/apps",
                                "/usrapp/apprun/app_ver.txt"};
    sim::quecopen::AppSide to{usrdata.fs.get(), &backup_cache, "/appbackup/apps",
                              "/appbackup/app_ver.txt"};
    auto report = sim::quecopen::sync_apps(from, to);
    if (!report || report->files != kFiles) state.SkipWithError("the sync did not copy 200 files");
    operations = rig.chip.injector->operation_count() - before;
  }
  state.counters["nand_ops"] = static_cast<double>(operations);
}
BENCHMARK(BM_AppSync200)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CpOverFuse200(benchmark::State& state) {
  std::string why;
  if (!fs::fuse_available(&why)) {
    state.SkipWithError(("no FUSE: " + why).c_str());
    return;
  }
  SyncRig& rig = sync_rig();
  const stdfs::path work =
      stdfs::temp_directory_path() / ("vmodem-bench-" + std::to_string(getpid()));
  stdfs::create_directories(work / "apps");
  stdfs::create_directories(work / "mnt");
  for (int i = 0; i < kFiles; ++i) {
    const auto content = file_content(i, kFileBytes);
    std::ofstream(work / "apps" / ("f" + std::to_string(i) + ".py"), std::ios::binary)
        .write(reinterpret_cast<const char*>(content.data()),
               static_cast<std::streamsize>(content.size()));
  }
  std::uint64_t operations = 0;
  for (auto _ : state) {
    state.PauseTiming();
    rig.rewind();
    auto usrdata = mount(rig.chip, SyncRig::spec(1), true);
    fs::SharedFileSystem shared(std::move(usrdata.fs));
    auto fuse = fs::FuseMount::start(shared, work / "mnt");
    if (!fuse) {
      state.SkipWithError(fuse.error().message().c_str());
      break;
    }
    stdfs::create_directories(work / "mnt" / "appbackup");
    const auto before = rig.chip.injector->operation_count();
    state.ResumeTiming();
    stdfs::copy(work / "apps", work / "mnt" / "appbackup" / "apps", stdfs::copy_options::recursive);
    ::sync();
    state.PauseTiming();
    operations = rig.chip.injector->operation_count() - before;
    (void)(*fuse)->stop();
    state.ResumeTiming();
  }
  state.counters["nand_ops"] = static_cast<double>(operations);
  std::error_code ignored;
  stdfs::remove_all(work, ignored);
}
BENCHMARK(BM_CpOverFuse200)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- The campaign over a sync ----------------------------------------------

// A three-file application from system over an empty usr_data, cut at every
// operation; the verdict mounts both and runs the sync again.
class SyncCase : public nand::campaign::BranchingCase {
 public:
  SyncCase() : chip_(32) {
    for (int i = 0; i < 2; ++i)
      format(chip_, spec(i), true);
    auto system = mount(chip_, spec(0), true);
    install_app(*system.fs, 3, 3000);
    (void)system.fs->sync();
    chip_.storage->snapshot_begin();
  }
  nand::FaultInjector& injector() override { return *chip_.injector; }
  void rewind() override {
    chip_.storage->snapshot_rollback();
    chip_.chip->power_up();
    chip_.injector->clear_rules();
    chip_.injector->reset_operation_count();
  }
  bool act() override {
    (void)sync_once();
    return !chip_.chip->powered();
  }
  // A branch: the flash saved as the cut finds it; put back after verify().
  void branch_enter(const nand::campaign::CutPoint&) override { chip_.storage->checkpoint_begin(); }
  void branch_leave() override {
    chip_.storage->checkpoint_rollback();
    chip_.chip->power_up();
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint&) override {
    chip_.chip->power_up();
    auto again = sync_once();
    if (!again) return nand::campaign::Verdict::fail("no sync", again.error().message());
    return nand::campaign::Verdict::pass("synced");
  }

 private:
  static nand::PartitionSpec spec(int i) {
    return {i == 0 ? "system" : "usr_data", static_cast<std::uint32_t>(16 * i), 16};
  }
  // Both sides attached and mounted, the sync through their page caches.
  fs::Result<sim::quecopen::AppSyncReport> sync_once() {
    Mounted sides[2];
    for (int i = 0; i < 2; ++i) {
      auto partition = nand::Partition::open(*chip_.injector, spec(i));
      if (!partition) return fs::fail(fs::Errc::io_error, partition.error().message());
      sides[i].partition = std::move(*partition);
      auto ubi = nand::ubi::UbiDevice::attach(*sides[i].partition);
      if (!ubi) return fs::fail(fs::Errc::io_error, ubi.error().message());
      sides[i].ubi = std::move(*ubi);
      sides[i].volume = std::make_unique<nand::ubi::VolumeDevice>(*sides[i].ubi, 0);
      auto fs = fs::FileSystem::mount(*sides[i].volume, fs::Config{});
      if (!fs) return tl::unexpected(fs.error());
      sides[i].fs = std::move(*fs);
    }
    fs::WriteBackConfig config;
    config.flusher_one_in = 3;
    fs::WriteBack from_cache(*sides[0].fs, config, [] { return std::int64_t{0}; });
    fs::WriteBack to_cache(*sides[1].fs, config, [] { return std::int64_t{0}; });
    sim::quecopen::AppSide from{sides[0].fs.get(), &from_cache, "/usrapp/apprun/apps",
                                "/usrapp/apprun/app_ver.txt"};
    sim::quecopen::AppSide to{sides[1].fs.get(), &to_cache, "/appbackup/apps",
                              "/appbackup/app_ver.txt"};
    return sim::quecopen::sync_apps(from, to);
  }
  Chip chip_;
};

// `branched`: each cut off one uncut run of the sync (what the backup
// campaigns do; nand::campaign::run_branched), else replayed from the
// snapshot up to it (nand::campaign::run). The same cuts either way.
void sync_campaign(benchmark::State& state, bool branched) {
  std::uint64_t cuts = 0;
  for (auto _ : state) {
    SyncCase c;
    nand::campaign::Plan plan;
    plan.modes = {nand::CutMode::before};
    const auto result =
        branched ? nand::campaign::run_branched(c, plan) : nand::campaign::run(c, plan);
    if (result.failed) state.SkipWithError("a cut failed");
    cuts += result.cuts;
  }
  state.counters["cuts"] = static_cast<double>(cuts) / static_cast<double>(state.iterations());
  state.counters["cuts_per_s"] =
      benchmark::Counter(static_cast<double>(cuts), benchmark::Counter::kIsRate);
}
void BM_SyncCampaignBranched(benchmark::State& state) {
  sync_campaign(state, true);
}
void BM_SyncCampaignReplayed(benchmark::State& state) {
  sync_campaign(state, false);
}
BENCHMARK(BM_SyncCampaignBranched)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SyncCampaignReplayed)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
