// The module's EC2x QuecOpen part (seed 001): the user's boot script in
// the boot (quecopen/boot_script.hpp), `ctl app-sync` — the application
// sync or that script on the running module, as running it by hand does —
// and `ctl fastboot-erase`, a partition erased as `fastboot erase` does
// (the seed's test method 3).
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "module/boot_sequence.hpp"
#include "module/guardians.hpp"
#include "quecopen/boot_script.hpp"
#include "quecopen/guardian.hpp"

namespace vmodem::sim {

namespace {

tl::unexpected<ControlError> error(std::string error_class, std::string desc) {
  return tl::unexpected(ControlError{std::move(error_class), std::move(desc)});
}

// The root file system's top-level directories that the application's
// paths name (/usrapp), made when missing: a real rootfs image ships them,
// and a script's `mkdir -p /usrapp/...` must land in the module's root file
// system, not in the namespace's tmpfs root.
void make_rootfs_dirs(const Profile& profile, std::span<const StageFs> mounted) {
  for (const std::string& path : {profile.app_sync.apps, profile.app_sync.tag}) {
    const auto where = quecopen::resolve(mounted, path);
    if (!where.mounted || where.mounted->spec->linux_mount != "/") continue;
    const auto end = where.inner.find('/', 1);
    if (end == std::string::npos) continue;  // a file at the top: nothing to make
    (void)where.mounted->fs->mkdir(where.inner.substr(0, end));  // exists: fine
  }
}

}  // namespace

bool Module::start_boot_script(const char* by, std::function<void(const BootScriptRun&)> then,
                               std::string* why) {
  quecopen::BootScript::Options options;
  options.script = profile_.app_sync.boot_script;
  options.timeout = std::chrono::milliseconds(profile_.app_sync.boot_script_timeout_ms);
  options.log = log_;
  {
    LockedStage stage;
    for (MountedFs& slot : file_systems_) {
      if (slot.spec->linux_mount.empty() || !slot.fs) continue;
      options.mounts.push_back({slot.spec->linux_mount, slot.fs.get()});
      stage.add(slot.spec, *slot.fs);
    }
    make_rootfs_dirs(profile_, stage.mounted());
  }  // the locks go: the script's FUSE threads take them
  log_->info("boot script {} ({}): starting", profile_.app_sync.boot_script, by);
  const std::uint64_t epoch = epoch_;
  auto started = quecopen::BootScript::start(
      io_, std::move(options),
      [this, epoch, by, then = std::move(then)](const quecopen::BootScript::Finished& end) {
        if (epoch != epoch_) return;  // a power transition ended it first
        const BootScriptRun run{.exit_code = end.exit_code,
                                .timed_out = end.timed_out,
                                .ms = static_cast<std::uint64_t>(end.took.count())};
        log_->log(run.exit_code == 0 ? spdlog::level::info : spdlog::level::warn,
                  "boot script ({}): {} after {} ms", by,
                  run.timed_out ? std::string("killed at the timeout")
                                : "exit code " + std::to_string(run.exit_code),
                  run.ms);
        emit("BOOT_SCRIPT", {{"by", by},
                             {"exit_code", run.exit_code},
                             {"timed_out", run.timed_out},
                             {"ms", run.ms}});
        // Gone before `then`: a boot that goes on may run it again.
        boost::asio::post(
            io_, [script = std::shared_ptr<quecopen::BootScript>(std::move(boot_script_))] {});
        then(run);
      });
  if (!started) {
    log_->error("boot script {}: {}", profile_.app_sync.boot_script, started.error());
    emit("BOOT_SCRIPT", {{"by", by}, {"error", started.error()}});
    if (why) *why = started.error();
    return false;
  }
  boot_script_ = std::move(*started);
  return true;
}

bool Module::boot_script_in_boot() {
  return start_boot_script(
      "boot",
      [this](const BootScriptRun&) {
        // The boot goes on where it waited: APP RDY and what follows.
        boot_->done(std::chrono::steady_clock::now());
        run_boot();
      },
      nullptr);
}

void Module::stop_boot_script() {
  if (!boot_script_) return;
  boot_script_.reset();  // killed, its mounts taken down
  log_->warn("boot script killed: the module powers down");
  if (auto reply = std::exchange(boot_script_reply_, nullptr))
    reply(error("GenericError", "the module powered down while the boot script ran"));
}

void Module::app_sync(AppSyncReply done) {
  if (profile_.family != Family::ec2x_quecopen) {
    done(error("InvalidParameter", "app-sync is EC2x QuecOpen's (profile family ec2x-quecopen)"));
    return;
  }
  if (state_ == PowerState::off || state_ == PowerState::booting) {
    done(error("DeviceNotActive", "the module is not up (off or still booting)"));
    return;
  }
  if (!profile_.app_sync.boot_script.empty()) {
    if (boot_script_) {
      done(error("DeviceBusy", "the boot script is running"));
      return;
    }
    std::string why;
    const bool started = start_boot_script(
        "ctl",
        [this](const BootScriptRun& run) {
          if (auto reply = std::exchange(boot_script_reply_, nullptr)) {
            reply(AppSyncDone{.outcome = "script",
                              .system_version = -1,
                              .backup_version = -1,
                              .files = 0,
                              .bytes = 0,
                              .script = run});
          }
        },
        &why);
    if (!started) {
      done(error("GenericError", "boot script: " + why));
      return;
    }
    boot_script_reply_ = std::move(done);
    return;
  }
  done(sync_apps_now());
}

Controlled<AppSyncDone> Module::sync_apps_now() {
  // The AP stage's file systems, each under its lock in the profile's order
  // (shared.hpp's lock order), as the boot runs the sync: a host writing
  // through a live mount meanwhile waits.
  LockedStage stage;
  for (MountedFs& slot : file_systems_) {
    if (slot.spec->role != FsRole::modem && slot.fs) stage.add(slot.spec, *slot.fs);
  }
  auto report = quecopen::run_app_sync(boot_env(), stage.mounted());
  if (!report) {
    // A power cut is the injector's to handle (the module drops to off).
    return error("GenericError", "app sync: " + report.error().message());
  }
  quecopen::announce(boot_env(), *report);
  return AppSyncDone{.outcome = quecopen::to_string(report->outcome),
                     .system_version = report->system_version,
                     .backup_version = report->backup_version,
                     .files = report->files,
                     .bytes = report->bytes,
                     .script = std::nullopt};
}

Controlled<FastbootErased> Module::fastboot_erase(const std::string& partition_name) {
  // Refuse a name before anything happens to a running module.
  if (!flash_->table().find(partition_name))
    return error("InvalidParameter", "no partition '" + partition_name + "' in this module");
  const bool was_on = state_ != PowerState::off;
  if (was_on) {
    // `adb reboot bootloader`: Linux shuts down in order, the boot loader
    // runs fastboot. What the host sees is the module going away.
    log_->info("fastboot: rebooting into the boot loader to erase {}", partition_name);
    stop_orderly();
  }
  // The boot loader drives the NAND with the rest of the module off.
  flash_->lock().faults().power_up();
  const auto erased = [&]() -> nand::Result<nand::PartitionErased> {
    auto partition = flash_->partition(partition_name);
    if (!partition) return tl::unexpected(partition.error());
    return nand::erase_every_block(**partition);
  }();
  {
    auto flash = flash_->lock();
    (void)flash.storage().sync();
    flash.faults().power_off();
  }
  if (!erased) return error("GenericError", "fastboot erase: " + erased.error().message());
  log_->warn("fastboot erase {}: {} blocks erased{}; the module stays off until power-on",
             partition_name, erased->erased,
             erased->failed ? ", " + std::to_string(erased->failed) + " failed and marked bad"
                            : std::string());
  emit("FASTBOOT_ERASE", {{"partition", partition_name},
                          {"erased_blocks", erased->erased},
                          {"failed_blocks", erased->failed}});
  return FastbootErased{.partition = partition_name,
                        .erased_blocks = erased->erased,
                        .failed_blocks = erased->failed,
                        .was_on = was_on};
}

}  // namespace vmodem::sim
