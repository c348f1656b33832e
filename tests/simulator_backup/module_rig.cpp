#include "module_rig.hpp"

#include <cstring>

namespace vmodem::sim::testing {

namespace {

std::string child_path(const std::string& dir, const std::string& name) {
  return (dir == "/" ? dir : dir + "/") + name;
}

bool record(fs::FileSystem& fs, const std::string& dir, Tree& tree) {
  auto list = fs.readdir(dir);
  if (!list) return false;
  for (const auto& entry : *list) {
    // By value: the recursion below grows tree.entries.
    const std::string path = child_path(dir, entry.name);
    const bool directory = entry.type == fs::FileType::directory;
    tree.entries.push_back({path, directory, {}});
    if (directory) {
      if (!record(fs, path, tree)) return false;
      continue;
    }
    auto data = fs.read_file(path);
    if (!data) return false;
    tree.entries.back().data = std::move(*data);
  }
  return true;
}

// Streams the file through one buffer and compares as it goes: no copy of
// the file is made (campaigns compare the whole tree after every cut).
bool same_content(fs::FileSystem& fs, const std::string& path,
                  const std::vector<std::uint8_t>& expected) {
  auto handle = fs.open(path, fs::kRead);
  if (!handle) return false;
  static thread_local std::vector<std::uint8_t> buffer(16 * 1024);
  std::uint64_t at = 0;
  bool same = true;
  for (;;) {
    auto got = fs.pread(*handle, buffer, at);
    if (!got) same = false;
    if (!same || *got == 0) break;
    if (*got > expected.size() - at ||
        std::memcmp(buffer.data(), expected.data() + at, *got) != 0) {
      same = false;
      break;
    }
    at += *got;
  }
  (void)fs.close(*handle);
  return same && at == expected.size();
}

// Walks `dir` in readdir order, matching tree.entries from `at` on.
bool matches(fs::FileSystem& fs, const std::string& dir, const Tree& tree, std::size_t& at) {
  auto list = fs.readdir(dir);
  if (!list) return false;
  for (const auto& entry : *list) {
    if (at >= tree.entries.size()) return false;
    const Tree::Entry& e = tree.entries[at++];
    const bool directory = entry.type == fs::FileType::directory;
    if (directory != e.directory || e.path != child_path(dir, entry.name)) return false;
    if (directory) {
      if (!matches(fs, e.path, tree, at)) return false;
      continue;
    }
    if (!same_content(fs, e.path, e.data)) return false;
  }
  return true;
}

}  // namespace

std::optional<Tree> record_tree(fs::FileSystem& fs) {
  Tree tree;
  if (!record(fs, "/", tree)) return std::nullopt;
  return tree;
}

bool holds_tree(fs::FileSystem& fs, const Tree& tree) {
  std::size_t at = 0;
  return matches(fs, "/", tree, at) && at == tree.entries.size();
}

tl::expected<std::unique_ptr<ModuleRig>, std::string> ModuleRig::create(
    fs::PowerLossMode mode, std::uint64_t seed, const std::string& profile_name) {
  auto profile = load_profile(profile_name);
  if (!profile) return tl::unexpected(profile.error().message);
  profile->backup.safe_power_loss = mode == fs::PowerLossMode::safe;
  std::unique_ptr<ModuleRig> rig(new ModuleRig());
  rig->profile_ = std::move(*profile);
  // One thread: a branched campaign runs the module's boot from inside a NAND
  // operation (Flash::Threads).
  auto flash = Flash::in_memory(rig->profile_, Seeds{seed}, Flash::Threads::one);
  if (!flash) return tl::unexpected(flash.error());
  rig->flash_ = std::move(*flash);
  rig->env_ = std::make_unique<FsBootEnv>(*rig->flash_, rig->profile_);
  // The first start: the production line.
  for (const Side side : {Side::modem, Side::ap}) {
    FsBoot& booted = rig->booted(side);
    booted = boot_file_system(*rig->env_, role_of(side), /*manufacture=*/true);
    if (booted.outcome != FsBootOutcome::manufactured)
      return tl::unexpected(std::string("manufacture of the ") + name_of(side) +
                            " file system failed");
    if (auto ok = booted.backup.engine->note_boot_completed(); !ok)
      return tl::unexpected(ok.error().message());
  }
  rig->power_off();
  return rig;
}

BootResult ModuleRig::boot_side(Side side, const std::function<void(Side)>& before) {
  if (before) before(side);
  FsBoot& booted = this->booted(side);
  booted = boot_file_system(*env_, role_of(side), /*manufacture=*/false);
  if (booted.power_lost) return BootResult::power_lost;
  if (!booted.fs) return BootResult::failed;
  // RDY (modem) / APP RDY (AP): the boot-loop counter is closed.
  if (auto* engine = booted.backup.engine.get()) {
    if (auto ok = engine->note_boot_completed(); !ok) {
      return ok.error().code == fs::Errc::power_loss ? BootResult::power_lost : BootResult::failed;
    }
  }
  return BootResult::app_rdy;
}

BootResult ModuleRig::power_on(const std::function<void(Side)>& before) {
  drop();
  attached_ = false;  // held_ stays for the next attach()
  flash_->lock().chip().power_up();
  for (const Side side : {Side::modem, Side::ap}) {
    const BootResult result = boot_side(side, before);
    if (result != BootResult::app_rdy) return result;
  }
  return BootResult::app_rdy;
}

bool ModuleRig::attach(Side side) {
  const bool ap = side == Side::ap;
  auto open = [&](PartitionRole role) -> std::unique_ptr<nand::Partition> {
    auto part = flash_->partition(profile_.find_role(role)->spec.name);
    return part ? std::move(*part) : nullptr;
  };
  FsBoot& b = held_;
  b = FsBoot{};
  attached_side_ = side;
  attached_ = true;
  b.partition = open(role_of(side));
  if (!b.partition) return false;
  auto mounted = fs::FileSystem::mount(*b.partition, env_->config);
  if (!mounted) return false;
  b.fs = std::move(*mounted);
  b.backup.data = open(ap ? PartitionRole::ap_fs_backup : PartitionRole::modem_fs_backup);
  b.backup.info = open(ap ? PartitionRole::ap_fs_backup_info : PartitionRole::modem_fs_backup_info);
  if (!b.backup.data || !b.backup.info) return false;
  auto engine =
      fs::BackupEngine::open(*b.partition, *b.backup.data, *b.backup.info, env_->backup_options);
  if (!engine) return false;
  b.backup.engine = std::move(*engine);
  b.outcome = FsBootOutcome::mounted;
  return true;
}

fs::Status ModuleRig::backup(Side side) {
  fs::FileSystem* fs = file_system(side);
  fs::BackupEngine* engine = this->engine(side);
  if (!fs || !engine) return fs::fail(fs::Errc::invalid_argument, "not booted");
  if (auto synced = fs->sync(); !synced) return synced;
  return engine->backup(*fs);
}

fs::Status ModuleRig::schedule_restore(Side side) {
  fs::BackupEngine* engine = this->engine(side);
  if (!engine) return fs::fail(fs::Errc::invalid_argument, "not booted");
  return engine->schedule_restore();
}

void ModuleRig::power_off() {
  for (const Side side : {Side::ap, Side::modem}) {
    if (fs::FileSystem* fs = file_system(side)) (void)fs->sync();
  }
  drop();
  flash_->lock().chip().cut_power();
}

void ModuleRig::drop() {
  ap_ = FsBoot{};
  modem_ = FsBoot{};
}

void ModuleRig::restore_power() {
  flash_->lock().chip().power_up();
  flash_->lock().faults().clear_rules();
}

}  // namespace vmodem::sim::testing
