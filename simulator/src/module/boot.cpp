// Module boot: the steps of a BootSequence (boot_sequence.hpp) — firmware,
// the modem file system, RDY, the URCs after it, the other file systems,
// APP RDY — each run when its timer fires. Timings come from the profile's
// "boot" section (divided by fast_mode_divisor unless --real-time).
#include <utility>

#include <spdlog/spdlog.h>

#include <vmodem/fota/nand_update.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "commands/file_support.hpp"
#include "commands/gnss.hpp"
#include "commands/sim_card.hpp"
#include "json_text.hpp"
#include "module/boot_sequence.hpp"
#include "module/fs_config.hpp"
#include "module/guardians.hpp"
#include "module/live_mounts.hpp"
#include "module/nv_settings.hpp"
#include "sms/sms_service.hpp"

namespace vmodem::sim {

void Module::start_boot() {
  ++epoch_;
  ++boots_;
  power_gone_.store(false, std::memory_order_relaxed);
  // The network's coverage is the world's, not the module's: it outlives a
  // boot (ctl network).
  const bool in_coverage = runtime_.in_coverage;
  runtime_ = RuntimeState{};
  runtime_.in_coverage = in_coverage;
  gnss_->power_reset();  // a boot ends the GNSS session
  powered_at_ = std::chrono::steady_clock::now();
  flash_->lock().faults().power_up();
  set_state(PowerState::booting);
  // USB enumerates early in the boot: the ports exist (the host can open
  // them) but answer nothing until RDY.
  for (auto& [name, port] : ports_) {
    if (auto ok = port->present(); !ok) log_->error("port {}: {}", name, ok.error().message);
  }
  boot_->start(powered_at_);
  app_side_up_ = false;
  run_boot();
}

void Module::run_boot() {
  const std::uint64_t epoch = epoch_;
  while (const auto action = boot_->next()) {
    const auto now = std::chrono::steady_clock::now();
    if (action->due > now) {
      after(std::chrono::ceil<std::chrono::milliseconds>(action->due - now),
            [this] { run_boot(); });
      return;
    }
    if (!run_boot_step(*action)) return;
    // A power transition inside the step (a cut, or the update's own boot)
    // ends this boot.
    if (epoch != epoch_ || power_lost()) return;
    boot_->done(std::chrono::steady_clock::now());
  }
}

bool Module::run_boot_step(const BootAction& action) {
  switch (action.step) {
    case BootStep::firmware:
      return !start_firmware_update();  // fota.cpp: a staged update runs first
    case BootStep::modem_fs:
      // The modem side comes up first: its file system holds the RF
      // calibration and NV items it needs before it can say RDY.
      return mount_stage(/*before_rdy=*/true);
    case BootStep::rdy:
      reach_rdy();
      return true;
    case BootStep::urc:
      // The SIM's URCs as the card in the slot makes them (+CPIN: SIM PIN, ...).
      if (const auto text = sim_->boot_urc(action.urc)) send_urc(*text);
      return true;
    case BootStep::app_fs:
      // Without them there is no APP RDY; the modem side's URCs still come.
      app_side_up_ = mount_stage(/*before_rdy=*/false);
      // A user's boot script holds the boot here until it ends.
      if (app_side_up_ && !profile_.app_sync.boot_script.empty()) return !boot_script_in_boot();
      return true;
    case BootStep::app_rdy:
      if (app_side_up_) reach_app_rdy();
      return true;
  }
  return false;
}

const FsBootEnv& Module::boot_env() {
  const std::uint64_t seed = flash_->manufacture_seed();
  if (!boot_env_ || boot_env_->manufacture_seed != seed) {
    boot_env_ = std::make_unique<FsBootEnv>(*flash_, profile_);
    // Files are stamped by the module's clock (AT+CCLK's): what `ls -l` shows
    // on a live mount. The factory files get the production line's fixed
    // date, so a seed still makes one image, byte for byte.
    const auto clock = [this]() -> std::int64_t {
      if (manufacture_pending_) return kFactoryFileTime;
      const auto now = std::chrono::system_clock::now() + runtime_.clock_offset;
      return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    };
    boot_env_->config.clock = clock;
    boot_env_->backup_options.fs_config.clock = clock;
    boot_env_->log = log_.get();
    boot_env_->emit = [this](const std::string& event, nlohmann::json data) {
      if (event == "APP_FOTA") note_app_update(data);
      emit(event, std::move(data));
    };
  }
  return *boot_env_;
}

bool Module::mount_stage(bool before_rdy) {
  // The same code the power-cut campaigns boot through (guardians.hpp).
  const FsBootEnv& env = boot_env();
  for (MountedFs& slot : file_systems_) {
    if ((slot.spec->role == FsRole::modem) != before_rdy) continue;
    slot.close();
    FsBoot booted = boot_file_system(env, *slot.spec, manufacture_pending_);
    slot.partition = std::move(booted.partition);
    slot.ubi = std::move(booted.ubi);
    slot.volume = std::move(booted.volume);
    slot.backup = std::move(booted.backup);
    if (booted.fs) {
      // An upload a power cut interrupted left a temporary file: it holds
      // no committed data, so the firmware frees its space at boot.
      if (slot.spec->ufs) (void)files::remove_stale_uploads(*booted.fs);
      // From here on the FUSE threads and the control socket share it.
      slot.fs = std::make_unique<fs::SharedFileSystem>(std::move(booted.fs));
      continue;
    }
    if (booted.power_lost) return false;  // on_fault takes the module down
    // Without its file systems the firmware never comes up: the host sees no
    // RDY (modem) or no APP RDY, as with a bricked module.
    log_->error("{} file system unavailable: the module does not reach {}", slot.spec->name,
                before_rdy ? "RDY" : "APP RDY");
    emit("BOOT_FAILED", {{"stage", slot.spec->name + "_fs"}});
    return false;
  }
  if (!run_stage_guardians(before_rdy)) return false;
  if (before_rdy) {
    load_nv_settings();
    sim_->power_on();  // its lock and retries are in NV
  }
  return true;
}

bool Module::run_stage_guardians(bool before_rdy) {
  if (before_rdy) {
    files_restored_ = 0;
    app_update_urc_.reset();  // a boot cut before APP RDY told nobody; this one tells its own
  }
  // Each file system's lock, in the profile's order (shared.hpp's lock
  // order); nothing else holds them yet: the live mounts attach at APP RDY.
  LockedStage stage;
  for (MountedFs& slot : file_systems_) {
    if ((slot.spec->role == FsRole::modem) == before_rdy && slot.fs) stage.add(slot.spec, *slot.fs);
  }
  auto restored = sim::run_stage_guardians(boot_env(), stage.mounted(), before_rdy);
  if (!restored) {
    if (restored.error().code == fs::Errc::power_loss) return false;  // on_fault takes it down
    // The firmware goes on with the files as they are: a check that failed
    // must not brick the module.
    log_->error("boot guardians: {}", restored.error().message());
    return true;
  }
  files_restored_ += *restored;
  files_restored_total_ += *restored;
  return true;
}

// A settings file that does not validate never stops the boot: each bad
// field reads as its default (a backup taken afterwards holds the same file,
// so anything stricter would brick the module for good).
void Module::load_nv_settings() {
  for (const auto& problem : nv_->attach(modem_fs())) {
    const std::string key = json_text(problem.key);
    if (key.empty()) {
      log_->warn("NV settings file {}: {}; every setting is at its default", NvSettings::kPath,
                 problem.reason);
    } else {
      log_->warn("NV setting \"{}\" in {}: {}; using its default", key, NvSettings::kPath,
                 problem.reason);
    }
    emit("NV_SETTING_INVALID",
         {{"key", key}, {"reason", problem.reason}, {"file", NvSettings::kPath}});
  }
  // The SMS store is NV too (sms/store.hpp): an entry that does not
  // validate is dropped, the others load.
  for (const auto& problem : sms_->power_on(modem_fs())) {
    log_->warn("SMS store {}: {}", sms::MessageStore::kPath, problem);
    emit("NV_SETTING_INVALID",
         {{"key", "sms"}, {"reason", problem}, {"file", sms::MessageStore::kPath}});
  }
}

void Module::reach_rdy() {
  for (auto& [name, port] : ports_) {
    // The firmware behind the ports starts answering.
    if (auto ok = port->reconnect(); !ok) log_->error("port {}: {}", name, ok.error().message);
    // Settings saved with AT&W are the port's power-on settings.
    if (const auto& saved = nv_->values().profile)
      apply_saved_settings(port->engine().settings(), *saved);
  }
  set_state(PowerState::rdy);
  send_urc("RDY");
  nmea_timer_.emplace(io_);
  tick_nmea(epoch_);
  note_boot_completed(/*before_rdy=*/true);
}

void Module::reach_app_rdy() {
  manufacture_pending_ = false;
  // Mounted before APP RDY, so a host that waits for the URC finds them.
  std::vector<LiveMounts::Served> served;
  for (const MountedFs& slot : file_systems_) {
    if (!slot.spec->mount_name.empty()) served.push_back({slot.spec->mount_name, slot.fs.get()});
  }
  live_mounts_->mount(served);
  set_state(PowerState::app_rdy);
  if (profile_.boot.app_rdy) send_urc("APP RDY");
  // The application update this boot applied or refused, as the firmware
  // update's END (its START/UPDATING ran before the ports answered).
  if (app_update_urc_) send_urc(fota::fota_urc("END", *std::exchange(app_update_urc_, {})));
  note_boot_completed(/*before_rdy=*/false);
  const auto elapsed = std::chrono::steady_clock::now() - powered_at_;
  log_->info("booted in {} ms",
             std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

}  // namespace vmodem::sim
