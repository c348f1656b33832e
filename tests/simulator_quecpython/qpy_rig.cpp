#include "qpy_rig.hpp"

#include <fstream>

namespace vmodem::sim::testing {

void write_app(const std::filesystem::path& dir, const std::vector<AppFile>& files) {
  for (const AppFile& file : files) {
    const auto path = dir / file.path.substr(1);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << file.content;
  }
}

bool record(fs::FileSystem& fs, const std::string& dir, Tree& tree) {
  auto list = fs.readdir(dir);
  if (!list) return false;
  for (const auto& entry : *list) {
    const std::string path = (dir == "/" ? "" : dir) + "/" + entry.name;
    if (entry.type == fs::FileType::directory) {
      tree.emplace_back(path + "/", "");
      if (!record(fs, path, tree)) return false;
      continue;
    }
    auto data = fs.read_file(path);
    if (!data) return false;
    tree.emplace_back(path, std::string(data->begin(), data->end()));
  }
  return true;
}

tl::expected<std::unique_ptr<QpyRig>, std::string> QpyRig::create(
    const std::filesystem::path& app, bool backup, bool enabled, std::uint64_t seed,
    const std::function<void(Profile&)>& adjust) {
  auto profile = load_profile("bg95-m3-quecpython");
  if (!profile) return tl::unexpected(profile.error().message);
  if (adjust) adjust(*profile);
  for (FileSystemSpec& fs : profile->file_systems) {
    if (fs.role == FsRole::ap || (fs.app_backup && backup)) fs.factory_dir = app.string();
    if (fs.app_backup) fs.restore_enabled = enabled;
  }
  std::unique_ptr<QpyRig> rig(new QpyRig());
  rig->profile_ = std::move(*profile);
  // One thread: the campaign cuts inside NAND operations (Flash::Threads).
  auto flash = Flash::in_memory(rig->profile_, Seeds{seed}, Flash::Threads::one);
  if (!flash) return tl::unexpected(flash.error());
  rig->flash_ = std::move(*flash);
  rig->env_ = std::make_unique<FsBootEnv>(*rig->flash_, rig->profile_);
  rig->env_->emit = [raw = rig.get()](const std::string& event, nlohmann::json data) {
    if (event == "FILE_RESTORED") raw->events_.push_back(std::move(data));
    if (event == "APP_FOTA") raw->app_events_.push_back(std::move(data));
  };
  rig->flash_->lock().faults().power_up();
  if (rig->boot(/*manufacture=*/true) != Booted::up)
    return tl::unexpected(std::string("manufacture failed"));
  rig->power_off();
  return rig;
}

Booted QpyRig::boot(bool manufacture) {
  drop();
  for (const FileSystemSpec& spec : profile_.file_systems) {
    booted_.push_back(boot_file_system(*env_, spec, manufacture));
    if (booted_.back().power_lost) return Booted::power_lost;
    if (!booted_.back().fs) return Booted::failed;
  }
  std::vector<StageFs> stage;
  for (std::size_t i = 0; i < booted_.size(); ++i) {
    if (profile_.file_systems[i].role != FsRole::modem)
      stage.push_back({&profile_.file_systems[i], booted_[i].fs.get()});
  }
  hook_started_at_ = injector().operation_count();
  auto restored = run_stage_guardians(*env_, stage, /*before_rdy=*/false);
  if (!restored) {
    return restored.error().code == fs::Errc::power_loss ? Booted::power_lost : Booted::failed;
  }
  files_restored_ = *restored;
  return Booted::up;
}

Booted QpyRig::power_on() {
  flash_->lock().faults().power_up();
  events_.clear();
  app_events_.clear();
  files_restored_ = 0;
  return boot(/*manufacture=*/false);
}

void QpyRig::power_off() {
  for (FsBoot& b : booted_) {
    if (b.fs && !b.fs->read_only()) (void)b.fs->sync();
  }
  drop();
  flash_->lock().faults().power_off();
}

void QpyRig::drop() {
  booted_.clear();
}

void QpyRig::restore_power() {
  auto access = flash_->lock();
  access.faults().clear_rules();
  access.faults().power_up();
}

fs::FileSystem& QpyRig::bak() {
  for (std::size_t i = 0; i < booted_.size(); ++i) {
    if (profile_.file_systems[i].app_backup) return *booted_[i].fs;
  }
  std::abort();  // the profile has one (checked at load)
}

fs::FileSystem* QpyRig::fs_of(FsRole role) {
  for (std::size_t i = 0; i < booted_.size(); ++i) {
    if (profile_.file_systems[i].role == role) return booted_[i].fs.get();
  }
  return nullptr;
}

}  // namespace vmodem::sim::testing
