// The file-system boot shared by the Module and the campaigns (fs_boot.hpp).
#include "module/fs_boot.hpp"

#include <spdlog/spdlog.h>

#include <vmodem/fs/factory.hpp>

#include "module/fs_config.hpp"

namespace vmodem::sim {

namespace {

fs::BackupOptions backup_options_of(Flash& flash, const Profile& profile) {
  fs::BackupOptions options;
  options.mode = profile.backup.safe_power_loss ? fs::PowerLossMode::safe : fs::PowerLossMode::real;
  options.fs_config = fs_config(profile);
  // A restored file system keeps the identity the production line gave it.
  options.format.volume_id = flash.manufacture_seed();
  return options;
}

// One boot in progress: the environment, the result being built, and the
// steps in the order the module runs them.
class FsBooter {
 public:
  FsBooter(const FsBootEnv& env, const FileSystemSpec& spec, BackupUse backup)
      : env_(env), spec_(spec), backup_(backup), which_(spec.name) {}

  FsBoot run(bool manufacture) {
    const PartitionEntry* entry = env_.profile.find(spec_.partition);
    if (!entry) {
      env_.log->error("profile {} has no partition {}", env_.profile.name, spec_.partition);
      return std::move(out_);
    }
    auto opened = env_.flash.partition(entry->spec.name);
    if (!opened) {
      if (lost(opened.error())) return std::move(out_);  // the bad-block scan was cut
      env_.log->error("{}: {}", which_, opened.error().message());
      return std::move(out_);
    }
    out_.partition = std::move(*opened);
    if (!spec_.ubi_volume.empty() && !open_ubi_volume(manufacture)) return std::move(out_);
    open_backup();
    if (!count_boot()) return std::move(out_);
    if (manufacture) {
      env_.log->info("manufacture: formatting the {} file system ({}) with its factory files",
                     which_, entry->spec.name);
    } else if (mount_or_restore(*entry)) {
      return std::move(out_);
    }
    if (format_and_fill(manufacture)) {
      out_.outcome = manufacture ? FsBootOutcome::manufactured : FsBootOutcome::rebuilt;
    }
    return std::move(out_);
  }

 private:
  // The power went (the error says so: the one signal a NAND call gives):
  // nothing more is written; the caller drops to OFF.
  template <typename E>
  bool lost(const E& error) {
    if (error.code != decltype(error.code)::power_loss) return false;
    mark_lost();
    return true;
  }
  // A file system read-only to the user is mounted read-only at every boot:
  // every path to it (AT, FUSE, ctl) then meets Errc::read_only.
  fs::MountOptions mount_options() const {
    fs::MountOptions options;
    options.checks = env_.checks(spec_);
    options.read_only = spec_.read_only;
    return options;
  }
  void mark_lost() {
    out_.fs.reset();
    out_.outcome = FsBootOutcome::failed;
    out_.power_lost = true;
  }
  void emit(const std::string& event, nlohmann::json data) const {
    if (env_.emit) env_.emit(event, std::move(data));
  }

  // Attaches UBI and finds the file system's volume, formatting what the
  // kernel would. False when the power went or UBI cannot be used.
  bool open_ubi_volume(bool manufacture) {
    auto opened = nand::ubi::attach_or_format(*out_.partition, spec_.ubi_volume);
    if (!opened) {
      if (!lost(opened.error())) env_.log->error("{}: UBI: {}", which_, opened.error().message());
      return false;
    }
    if (manufacture) {
      env_.log->info("manufacture: UBI volume {} created on {}", spec_.ubi_volume, spec_.partition);
    } else if (!opened->formatted_because.empty()) {
      env_.log->warn("{}: partition {} formatted for UBI volume {} ({})", which_, spec_.partition,
                     spec_.ubi_volume, opened->formatted_because);
      emit("FS_FORMATTED", {{"file_system", which_},
                            {"partition", spec_.partition},
                            {"ubi_volume", spec_.ubi_volume},
                            {"reason", opened->formatted_because}});
    }
    out_.ubi = std::move(opened->ubi);
    out_.volume = std::make_unique<nand::ubi::VolumeDevice>(*out_.ubi, opened->volume_id);
    return true;
  }

  // The engine over the backup data and info partitions; none on modules
  // without them (UC20: AT+QPRTPARA answers ERROR there).
  void open_backup() {
    if (backup_ != BackupUse::partition || !spec_.has_backup()) return;
    auto data_part = env_.flash.partition(spec_.backup_data);
    auto info_part = env_.flash.partition(spec_.backup_info);
    if (!data_part || !info_part) {
      const nand::Error& error = !data_part ? data_part.error() : info_part.error();
      if (!lost(error)) env_.log->error("{} backup: {}", which_, error.message());
      return;
    }
    BackupSide& side = out_.backup;
    side.data = std::move(*data_part);
    side.info = std::move(*info_part);
    fs::BackupOptions options = env_.backup_options;
    options.checks = env_.checks(spec_);
    auto engine = fs::BackupEngine::open(*out_.partition, *side.data, *side.info, options);
    if (!engine) {
      if (!lost(engine.error()))
        env_.log->error("{} backup unavailable: {}", which_, engine.error().message());
      side.close();
      return;
    }
    side.engine = std::move(*engine);
  }

  // Probe 10: a boot that starts and never reaches RDY / APP RDY counts.
  // False when the power went while the count was written.
  bool count_boot() {
    fs::BackupEngine* engine = out_.backup.engine.get();
    if (!engine) return true;
    if (auto ok = engine->note_boot_started(); !ok) {
      if (lost(ok.error())) return false;
      env_.log->warn("{} backup: boot counter not updated: {}", which_, ok.error().message());
    }
    return true;
  }

  // Mounts, asks the engine, restores when it says so. True when the boot is
  // over (mounted, restored, or the power went); false to format and refill.
  bool mount_or_restore(const PartitionEntry& entry) {
    fs::BackupEngine* engine = out_.backup.engine.get();
    auto mounted = fs::FileSystem::mount(out_.device(), env_.config, mount_options());
    if (!mounted && lost(mounted.error())) return true;  // power went during the scan
    if (!mounted) out_.mount_error = mounted.error();
    fs::BootDecision& decision = out_.decision;
    if (engine) {
      decision = engine->at_boot(out_.mount_error);
    } else if (out_.mount_error) {
      decision.action = fs::BootAction::no_backup;
    }
    if (decision.action == fs::BootAction::none && mounted) {
      out_.fs = std::move(*mounted);
      out_.outcome = FsBootOutcome::mounted;
      return true;
    }
    if (decision.action == fs::BootAction::restore) {
      // The engine rewrites the partition: it must not be mounted.
      if (mounted) mounted->reset();
      if (restore(*engine) || out_.power_lost) return true;
    }
    // The file system cannot be used and there is no backup to restore it
    // from: the module formats it and refills it with its factory files —
    // never a silent empty file system.
    const std::string reason = out_.mount_error ? out_.mount_error->message() : decision.reason;
    env_.log->warn(
        "{} file system unusable ({}), no backup to restore: reformatting with factory files",
        which_, reason);
    nlohmann::json event = {{"file_system", which_},
                            {"partition", entry.spec.name},
                            {"reason", reason},
                            {"backup", engine != nullptr}};
    if (out_.mount_error && out_.mount_error->check) {
      event["probe_point"] = out_.mount_error->check->number();
      event["check"] = std::string(out_.mount_error->check->name());
    }
    emit("FS_REBUILT", event);
    return false;
  }

  bool restore(fs::BackupEngine& engine) {
    const fs::BootDecision& decision = out_.decision;
    env_.log->warn("{} file system: restoring from its backup (probe point {}{}): {}", which_,
                   decision.probe, decision.resumed ? ", resumed" : "", decision.reason);
    if (auto ok = engine.restore(decision.probe); !ok) {
      if (!lost(ok.error()))
        env_.log->error("{} file system: restore failed: {}", which_, ok.error().message());
      return false;
    }
    auto mounted = fs::FileSystem::mount(out_.device(), env_.config, mount_options());
    if (!mounted) {
      if (!lost(mounted.error()))
        env_.log->error("{} file system: mount after restore failed: {}", which_,
                        mounted.error().message());
      return false;
    }
    out_.fs = std::move(*mounted);
    out_.outcome = FsBootOutcome::restored;
    emit("RESTORE", {{"file_system", which_},
                     {"probe_point", decision.probe},
                     {"resumed", decision.resumed},
                     {"reason", decision.reason},
                     {"restore_count", engine.info().restore_count}});
    return true;
  }

  // Format, factory files, and on the production line the first backup.
  bool format_and_fill(bool manufacture) {
    nand::Device& device = out_.device();
    const std::uint64_t seed = env_.flash.manufacture_seed();
    fs::FormatOptions format;
    format.volume_id = seed;
    if (auto ok = fs::FileSystem::format(device, env_.config, format); !ok) {
      if (!lost(ok.error())) env_.log->error("{}: format failed: {}", which_, ok.error().message());
      return false;
    }
    auto fresh = fs::FileSystem::mount(device, env_.config);
    if (!fresh) {
      if (!lost(fresh.error()))
        env_.log->error("{}: mount after format failed: {}", which_, fresh.error().message());
      return false;
    }
    auto factory = factory_files(env_.profile, spec_, seed);
    if (!factory) {
      env_.log->error("{}: {}", which_, factory.error());
      // The first power-on makes the image: one without its factory files
      // is not made at all (manufacture_image removes it).
      if (manufacture) return false;
    } else if (auto ok = fs::install(**fresh, *factory); !ok) {
      if (lost(ok.error())) return false;
      env_.log->error("{}: installing factory files failed: {}", which_, ok.error().message());
      if (manufacture) return false;
    }
    // The production line backs each file system up once before delivery.
    fs::BackupEngine* engine = out_.backup.engine.get();
    if (manufacture && engine) {
      if (auto ok = engine->backup(**fresh); !ok) {
        if (lost(ok.error())) return false;
        env_.log->error("{}: production-line backup failed: {}", which_, ok.error().message());
      }
    }
    if (spec_.read_only) {
      // Written by the factory (or rebuilt by the firmware); from here on
      // read-only like every later boot's mount of it.
      if (auto ok = (*fresh)->sync(); !ok) {
        if (!lost(ok.error())) env_.log->error("{}: sync failed: {}", which_, ok.error().message());
        return false;
      }
      fresh->reset();
      fresh = fs::FileSystem::mount(device, env_.config, mount_options());
      if (!fresh) {
        if (!lost(fresh.error()))
          env_.log->error("{}: read-only mount failed: {}", which_, fresh.error().message());
        return false;
      }
    }
    out_.fs = std::move(*fresh);
    return true;
  }

  const FsBootEnv& env_;
  const FileSystemSpec& spec_;
  BackupUse backup_;
  std::string which_;
  FsBoot out_;
};

}  // namespace

FsBootEnv::FsBootEnv(Flash& flash_, const Profile& profile_)
    : flash(flash_),
      profile(profile_),
      manufacture_seed(flash_.manufacture_seed()),
      config(fs_config(profile_)),
      backup_options(backup_options_of(flash_, profile_)),
      log(spdlog::default_logger_raw()) {
  for (const auto& fs : profile.file_systems) {
    checks_by_name.emplace(fs.name, boot_checks(profile, fs, manufacture_seed));
  }
}

const fs::CheckOptions& FsBootEnv::checks(const FileSystemSpec& fs) const {
  static const fs::CheckOptions none;
  const auto found = checks_by_name.find(fs.name);
  return found == checks_by_name.end() ? none : found->second;
}

std::string_view to_string(FsBootOutcome outcome) {
  switch (outcome) {
    case FsBootOutcome::mounted:
      return "mounted";
    case FsBootOutcome::restored:
      return "restored";
    case FsBootOutcome::rebuilt:
      return "rebuilt";
    case FsBootOutcome::manufactured:
      return "manufactured";
    case FsBootOutcome::failed:
      return "failed";
  }
  return "unknown";
}

FsBoot boot_file_system(const FsBootEnv& env, const FileSystemSpec& fs, bool manufacture,
                        BackupUse backup) {
  return FsBooter(env, fs, backup).run(manufacture);
}

}  // namespace vmodem::sim
