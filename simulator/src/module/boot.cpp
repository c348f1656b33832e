// Module boot: mount the modem file system, RDY, the URCs after it, mount the
// AP file system, APP RDY. Timings come from the profile's "boot" section
// (divided by fast_mode_divisor unless --real-time).
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "json_text.hpp"
#include "module/guardians.hpp"
#include "module/live_mounts.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {

void Module::start_boot() {
  ++epoch_;
  ++boots_;
  power_gone_.store(false, std::memory_order_relaxed);
  runtime_ = RuntimeState{};
  powered_at_ = std::chrono::steady_clock::now();
  flash_->injector().power_up();
  set_state(PowerState::booting);
  // USB enumerates early in the boot: the ports exist (the host can open
  // them) but answer nothing until RDY.
  for (auto& [name, port] : ports_) {
    if (auto ok = port->present(); !ok) log_->error("port {}: {}", name, ok.error().message);
  }
  if (start_firmware_update()) return;  // fota.cpp: a staged update runs first
  // The modem side comes up first: its file system holds the RF calibration
  // and NV items it needs before it can say RDY.
  if (!mount_stage(/*before_rdy=*/true)) return;
  after(scaled(profile_.boot.rdy_after_ms), [this] { reach_rdy(); });
}

bool Module::mount_stage(bool before_rdy) {
  // The same code the power-cut campaigns boot through (guardians.hpp).
  FsBootEnv env(*flash_, profile_);
  env.log = log_.get();
  env.emit = [this](const std::string& event, nlohmann::json data) {
    emit(event, std::move(data));
  };
  for (MountedFs& slot : file_systems_) {
    if ((slot.spec->role == FsRole::modem) != before_rdy) continue;
    slot.close();
    FsBoot booted = boot_file_system(env, *slot.spec, manufacture_pending_);
    slot.partition = std::move(booted.partition);
    slot.backup = std::move(booted.backup);
    slot.fs = std::move(booted.fs);
    if (slot.fs) continue;
    if (booted.power_lost) return false;  // on_fault takes the module down
    // Without its file systems the firmware never comes up: the host sees no
    // RDY (modem) or no APP RDY, as with a bricked module.
    log_->error("{} file system unavailable: the module does not reach {}", slot.spec->name,
                before_rdy ? "RDY" : "APP RDY");
    emit("BOOT_FAILED", {{"stage", slot.spec->name + "_fs"}});
    return false;
  }
  if (before_rdy) load_nv_settings();
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
  note_boot_completed(/*before_rdy=*/true);
  for (const auto& urc : profile_.boot.urcs_after_rdy) {
    after(scaled(urc.after_ms), [this, text = urc.text] { send_urc(text); });
  }
  after(scaled(profile_.boot.app_rdy_after_ms), [this] { reach_app_rdy(); });
}

void Module::reach_app_rdy() {
  if (!mount_stage(/*before_rdy=*/false)) return;
  manufacture_pending_ = false;
  // Mounted before APP RDY, so a host that waits for the URC finds them.
  std::vector<LiveMounts::Served> served;
  for (const MountedFs& slot : file_systems_) {
    if (!slot.spec->mount_name.empty()) served.push_back({slot.spec->mount_name, slot.fs.get()});
  }
  live_mounts_->mount(served);
  set_state(PowerState::app_rdy);
  if (profile_.boot.app_rdy) send_urc("APP RDY");
  note_boot_completed(/*before_rdy=*/false);
  const auto elapsed = std::chrono::steady_clock::now() - powered_at_;
  log_->info("booted in {} ms",
             std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

}  // namespace vmodem::sim
