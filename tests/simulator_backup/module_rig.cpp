#include "module_rig.hpp"

#include <cstring>

namespace vmodem::sim::testing {

namespace {

// A fast 64-bit mix over words (not cryptographic: it tells recorded trees
// apart, nobody crafts collisions here).
struct Hasher {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL;
  static std::uint64_t mix(std::uint64_t x, std::uint64_t w) {
    x ^= w;
    x *= 0xFF51AFD7ED558CCDULL;
    return x ^ (x >> 32);
  }
  void word(std::uint64_t w) { h = mix(h, w); }
  // Four independent lanes, so the multiplies overlap.
  void bytes(const std::uint8_t* p, std::size_t n) {
    word(n);
    std::uint64_t lane[4] = {h, h + 1, h + 2, h + 3};
    for (; n >= 32; p += 32, n -= 32) {
      std::uint64_t w[4];
      std::memcpy(w, p, sizeof w);
      for (int i = 0; i < 4; ++i)
        lane[i] = mix(lane[i], w[i]);
    }
    for (const auto l : lane)
      word(l);
    std::uint8_t tail[32] = {};
    std::memcpy(tail, p, n);
    for (int i = 0; i < 32; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, tail + i, 8);
      word(w);
    }
  }
  void text(const std::string& s) {
    bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
};

bool walk(fs::FileSystem& fs, const std::string& dir, Hasher& hash) {
  auto list = fs.readdir(dir);
  if (!list) return false;
  for (const auto& entry : *list) {
    const std::string path = (dir == "/" ? dir : dir + "/") + entry.name;
    hash.text(path);
    if (entry.type == fs::FileType::directory) {
      hash.word(1);
      if (!walk(fs, path, hash)) return false;
    } else {
      auto data = fs.read_file(path);
      if (!data) return false;
      hash.word(2);
      hash.bytes(data->data(), data->size());
    }
  }
  return true;
}

}  // namespace

std::optional<std::uint64_t> tree_digest(fs::FileSystem& fs) {
  Hasher hash;
  if (!walk(fs, "/", hash)) return std::nullopt;
  return hash.h;
}

tl::expected<std::unique_ptr<ModuleRig>, std::string> ModuleRig::create(
    fs::PowerLossMode mode, std::uint64_t seed, const std::string& profile_name) {
  auto profile = load_profile(profile_name);
  if (!profile) return tl::unexpected(profile.error().message);
  profile->backup.safe_power_loss = mode == fs::PowerLossMode::safe;
  std::unique_ptr<ModuleRig> rig(new ModuleRig());
  rig->profile_ = std::move(*profile);
  auto flash = Flash::in_memory(rig->profile_, Seeds{seed});
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
      return flash_->chip().powered() ? BootResult::failed : BootResult::power_lost;
    }
  }
  return BootResult::app_rdy;
}

BootResult ModuleRig::power_on(const std::function<void(Side)>& before) {
  drop();
  attached_ = false;  // held_ stays for the next attach()
  flash_->chip().power_up();
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
  b.backup.close();
  if (attached_side_ != side || !b.fs || !b.fs->alive()) {
    b = FsBoot{};
    b.partition = open(role_of(side));
    if (!b.partition) return false;
    auto mounted = fs::FileSystem::mount(*b.partition, env_->config);
    if (!mounted) return false;
    b.fs = std::move(*mounted);
  }
  attached_side_ = side;
  attached_ = true;
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
  std::lock_guard lock(fs->mutex());
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
  flash_->chip().cut_power();
}

void ModuleRig::drop() {
  ap_ = FsBoot{};
  modem_ = FsBoot{};
}

void ModuleRig::restore_power() {
  flash_->chip().power_up();
  flash_->injector().clear_rules();
}

}  // namespace vmodem::sim::testing
