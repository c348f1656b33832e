// Module boot: mount the modem file system, RDY, the URCs after it, mount the
// AP file system, APP RDY. Timings come from the profile's "boot" section
// (divided by fast_mode_divisor unless --real-time).
#include <spdlog/spdlog.h>

#include <vmodem/fs/factory.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "module/fs_config.hpp"
#include "module/live_mounts.hpp"
#include "module/nv_store.hpp"

namespace vmodem::sim {

namespace {}  // namespace

void Module::start_boot() {
  ++epoch_;
  ++boots_;
  runtime_ = RuntimeState{};
  powered_at_ = std::chrono::steady_clock::now();
  flash_->chip().power_up();
  set_state(PowerState::booting);
  // USB enumerates early in the boot: the ports exist (the host can open
  // them) but answer nothing until RDY.
  for (auto& [name, port] : ports_) {
    if (auto ok = port->present(); !ok) spdlog::error("port {}: {}", name, ok.error().message);
  }
  // The modem side comes up first: its file system holds the RF calibration
  // and NV items it needs before it can say RDY.
  if (!mount_modem_fs()) return;
  after(scaled(profile_.boot.rdy_after_ms), [this] { reach_rdy(); });
}

std::unique_ptr<fs::FileSystem> Module::mount_or_rebuild(
    const std::string& which, PartitionRole role, std::unique_ptr<nand::Partition>& partition) {
  const PartitionEntry* entry = profile_.find_role(role);
  if (!entry) {
    spdlog::error("profile {} has no {} partition", profile_.name, to_string(role));
    return nullptr;
  }
  auto opened = flash_->partition(entry->spec.name);
  if (!opened) {
    spdlog::error("{}: {}", which, opened.error());
    return nullptr;
  }
  partition = std::move(*opened);
  const fs::Config config = fs_config(profile_);
  open_backup(which, role, *partition);
  fs::BackupEngine* backup =
      (role == PartitionRole::ap_fs ? ap_backup_ : modem_backup_).engine.get();
  if (backup) {
    // Probe 10: a boot that starts and never reaches RDY / APP RDY counts.
    if (auto ok = backup->note_boot_started(); !ok) {
      spdlog::warn("{} backup: boot counter not updated: {}", which, ok.error().message());
      if (!flash_->chip().powered()) return nullptr;
    }
  }
  if (manufacture_pending_) {
    spdlog::info("manufacture: formatting the {} file system ({}) with its factory files", which,
                 entry->spec.name);
  } else {
    auto mounted = fs::FileSystem::mount(*partition, config);
    if (!mounted && !flash_->chip().powered()) return nullptr;  // power went during the scan
    std::optional<fs::Error> mount_error;
    if (!mounted) mount_error = mounted.error();
    fs::BootDecision decision;
    if (backup) {
      decision = backup->at_boot(mount_error);
    } else if (mount_error) {
      decision.action = fs::BootAction::no_backup;
    }
    if (decision.action == fs::BootAction::none && mounted) return std::move(*mounted);
    if (decision.action == fs::BootAction::restore) {
      // The engine rewrites the partition: it must not be mounted.
      if (mounted) mounted->reset();
      if (auto restored = restore_fs(which, *backup, decision, *partition, config)) return restored;
      if (!flash_->chip().powered()) return nullptr;
    }

    // The file system cannot be used and there is no backup to restore it
    // from: the module formats it and refills it with its factory files —
    // never a silent empty file system.
    const std::string reason = mount_error ? mount_error->message() : decision.reason;
    spdlog::warn(
        "{} file system unusable ({}), no backup to restore: reformatting with factory "
        "files",
        which, reason);
    nlohmann::json event = {{"file_system", which},
                            {"partition", entry->spec.name},
                            {"reason", reason},
                            {"backup", backup != nullptr}};
    if (mount_error && mount_error->check) {
      event["probe_point"] = mount_error->check->number();
      event["check"] = std::string(mount_error->check->name());
    }
    emit("FS_REBUILT", event);
  }
  fs::FormatOptions format;
  format.volume_id = flash_->storage().manufacture_seed();
  if (auto ok = fs::FileSystem::format(*partition, config, format); !ok) {
    spdlog::error("{}: format failed: {}", which, ok.error().message());
    return nullptr;
  }
  auto fresh = fs::FileSystem::mount(*partition, config);
  if (!fresh) {
    spdlog::error("{}: mount after format failed: {}", which, fresh.error().message());
    return nullptr;
  }
  auto factory = factory_files(profile_, role, flash_->storage().manufacture_seed());
  if (!factory) {
    spdlog::error("{}: {}", which, factory.error());
  } else if (auto ok = fs::install(**fresh, *factory); !ok) {
    spdlog::error("{}: installing factory files failed: {}", which, ok.error().message());
  }
  // The production line backs each file system up once before delivery.
  if (manufacture_pending_ && backup) {
    std::lock_guard lock((*fresh)->mutex());
    if (auto ok = backup->backup(**fresh); !ok) {
      spdlog::error("{}: production-line backup failed: {}", which, ok.error().message());
      if (!flash_->chip().powered()) return nullptr;
    }
  }
  return std::move(*fresh);
}

std::unique_ptr<fs::FileSystem> Module::restore_fs(const std::string& which,
                                                   fs::BackupEngine& backup,
                                                   const fs::BootDecision& decision,
                                                   nand::Partition& partition,
                                                   const fs::Config& config) {
  spdlog::warn("{} file system: restoring from its backup (probe point {}{}): {}", which,
               decision.probe, decision.resumed ? ", resumed" : "", decision.reason);
  if (auto ok = backup.restore(decision.probe); !ok) {
    spdlog::error("{} file system: restore failed: {}", which, ok.error().message());
    return nullptr;
  }
  auto mounted = fs::FileSystem::mount(partition, config);
  if (!mounted) {
    spdlog::error("{} file system: mount after restore failed: {}", which,
                  mounted.error().message());
    return nullptr;
  }
  const auto info = backup.info();
  emit("RESTORE", {{"file_system", which},
                   {"probe_point", decision.probe},
                   {"resumed", decision.resumed},
                   {"reason", decision.reason},
                   {"restore_count", info.restore_count}});
  return std::move(*mounted);
}

bool Module::mount_modem_fs() {
  modem_fs_ = mount_or_rebuild("modem", PartitionRole::modem_fs, modem_partition_);
  if (!modem_fs_) {
    // Without its file system the modem side never comes up: the host sees
    // no RDY, as with a bricked module.
    spdlog::error("modem file system unavailable: the module does not reach RDY");
    emit("BOOT_FAILED", {{"stage", "modem_fs"}});
    return false;
  }
  nv_->attach(modem_fs_.get());
  return true;
}

bool Module::mount_ap_fs() {
  ap_fs_ = mount_or_rebuild("ap", PartitionRole::ap_fs, ap_partition_);
  if (!ap_fs_) {
    spdlog::error("AP file system unavailable: the module does not reach APP RDY");
    emit("BOOT_FAILED", {{"stage", "ap_fs"}});
    return false;
  }
  return true;
}

void Module::reach_rdy() {
  for (auto& [name, port] : ports_) {
    // The firmware behind the ports starts answering.
    if (auto ok = port->reconnect(); !ok) spdlog::error("port {}: {}", name, ok.error().message);
    // Settings saved with AT&W are the port's power-on settings.
    if (auto saved = nv_->get("profile"); saved.is_object())
      apply_saved_settings(port->engine().settings(), saved);
  }
  set_state(PowerState::rdy);
  send_urc("RDY");
  note_boot_completed("modem", modem_backup_);
  for (const auto& urc : profile_.boot.urcs_after_rdy) {
    after(scaled(urc.after_ms), [this, text = urc.text] { send_urc(text); });
  }
  after(scaled(profile_.boot.app_rdy_after_ms), [this] { reach_app_rdy(); });
}

void Module::reach_app_rdy() {
  if (!mount_ap_fs()) return;
  manufacture_pending_ = false;
  // Mounted before APP RDY, so a host that waits for the URC finds them.
  live_mounts_->mount(modem_fs_.get(), ap_fs_.get());
  set_state(PowerState::app_rdy);
  if (profile_.boot.app_rdy) send_urc("APP RDY");
  note_boot_completed("ap", ap_backup_);
  const auto elapsed = std::chrono::steady_clock::now() - powered_at_;
  spdlog::info("booted in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

}  // namespace vmodem::sim
