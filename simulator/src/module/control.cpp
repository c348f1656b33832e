// Module as a ControlTarget: what the control socket can do to it.
#include <filesystem>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <vmodem/nand/stats.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/sim_card.hpp"
#include "module/boot_sequence.hpp"

namespace vmodem::sim {

namespace {

tl::unexpected<ControlError> error(std::string error_class, std::string desc) {
  return tl::unexpected(ControlError{std::move(error_class), std::move(desc)});
}

// The control socket names a file system as the profile does (its name,
// alias or partition); the schema cannot know which a module has, so a name
// this module lacks is refused here, with the names it has.
tl::unexpected<ControlError> unknown_file_system(const Profile& profile, const std::string& name) {
  std::string names;
  for (const auto& fs : profile.file_systems)
    names += (names.empty() ? "\"" : ", \"") + fs.name + "\"";
  return error("InvalidParameter", "no file system '" + name + "' in this module; it has " + names);
}

}  // namespace

Controlled<ModuleStatus> Module::status() {
  check_image();
  const auto uptime = state_ == PowerState::off
                          ? 0
                          : std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - powered_at_)
                                .count();
  std::uint64_t operations = 0, lost_pages = 0;
  {
    auto flash = flash_->lock();  // one hold: a second lock() meanwhile would wait for ever
    operations = flash.faults().operation_count();
    lost_pages = flash.storage().lost_pages();
  }
  return ModuleStatus{.power = state_,
                      .model = profile_.identity.model,
                      .profile = profile_.name,
                      .revision = profile_.identity.revision,
                      .seed = options_.seeds.run,
                      .state_dir = options_.state_dir,
                      .ports = ports(),
                      .boots = boots_,
                      .uptime_ms = uptime,
                      .boot_complete = state_ != PowerState::off && boot_ && !boot_->next(),
                      .real_time = options_.real_time,
                      .nand_operations = operations,
                      .image_lost_pages = lost_pages,
                      .sim = std::string(to_string(sim_->state())),
                      .files_restored = files_restored_,
                      .files_restored_total = files_restored_total_,
                      .app_updates_total = app_updates_total_,
                      .last_app_update = last_app_update_};
}

Controlled<PowerState> Module::power_on() {
  if (state_ != PowerState::off) return error("DeviceBusy", "the module is already on");
  start_boot();
  return state_;
}

Controlled<PowerState> Module::power_off() {
  if (state_ == PowerState::off) return error("DeviceNotActive", "the module is off");
  stop_orderly();
  return state_;
}

Controlled<PowerState> Module::reset() {
  if (state_ == PowerState::off) return error("DeviceNotActive", "the module is off");
  stop_orderly();
  start_boot();
  return state_;
}

Controlled<std::vector<nand::ArmedRule>> Module::faults() {
  return flash_->lock().faults().armed_rules();
}

Controlled<std::vector<std::uint32_t>> Module::disarm(std::optional<std::uint32_t> id) {
  auto flash = flash_->lock();
  std::vector<std::uint32_t> removed;
  if (id) {
    if (!flash.faults().remove_rule(*id))
      return error("InvalidParameter", "no fault rule " + std::to_string(*id) + " is armed");
    removed.push_back(*id);
  } else {
    for (const auto& rule : flash.faults().armed_rules())
      removed.push_back(rule.id);
    flash.faults().clear_rules();
  }
  log_->info("fault rules disarmed: {}", removed.size());
  return removed;
}

Controlled<PowerCutOutcome> Module::power_cut(const PowerCutRequest& request) {
  using When = PowerCutRequest::When;
  if (request.when == When::now) {
    if (state_ == PowerState::off) return error("DeviceNotActive", "the module is off");
    lose_power();
    return PowerCutOutcome{};
  }
  nand::FaultRule rule;
  rule.effect = nand::FaultEffect::power_cut;
  rule.cut = request.mode;
  rule.trigger = nand::Trigger::nth_match;
  std::uint64_t seed_used = 0;
  switch (request.when) {
    case When::after_operations:
      rule.n = request.operations;
      break;
    case When::partition_operation:
      rule.partition = request.partition;
      rule.ops = request.op_kinds;
      rule.n = request.operations;
      break;
    case When::random_window: {
      if (request.window_first == 0 || request.window_last < request.window_first) {
        return error("InvalidParameter", "window must satisfy 1 <= first <= last");
      }
      seed_used = request.seed.value_or(
          nand::Rng::mix(options_.seeds.run, flash_->lock().faults().operation_count()));
      nand::Rng rng(seed_used);
      rule.n = request.window_first + rng.below(request.window_last - request.window_first + 1);
      break;
    }
    case When::now:
      break;
  }
  auto id = flash_->lock().faults().add_rule(rule);
  if (!id) return error("InvalidParameter", id.error().message());
  PowerCutOutcome armed{
      .armed = true, .rule = *id, .operation = rule.n, .mode = rule.cut, .seed = std::nullopt};
  if (request.when == When::random_window) armed.seed = seed_used;
  log_->info("power cut armed: rule {}, operation {}, mode {}{}", armed.rule, armed.operation,
             nand::to_string(armed.mode),
             armed.seed ? ", seed " + std::to_string(*armed.seed) : std::string());
  return armed;
}

Controlled<InjectOutcome> Module::inject(const InjectRequest& request) {
  using Kind = InjectRequest::Kind;
  if (request.kind == Kind::rule) {
    auto id = flash_->lock().faults().add_rule(request.rule);
    if (!id) return error("InvalidParameter", id.error().message());
    return RuleArmed{*id};
  }
  if (request.kind == Kind::corrupt_file) {
    if (!profile_.file_system(request.file_system))
      return unknown_file_system(profile_, request.file_system);
    fs::SharedFileSystem* shared = file_system(request.file_system);
    if (!shared)
      return error("DeviceNotActive", "file system '" + request.file_system + "' is not mounted");
    // The file's bytes change but nothing that vouches for them does (the
    // critical-file checksums of probe 8): what a buggy writer or a bit flip
    // in RAM before the write leaves behind. For damage below the file
    // system, inject bit flips into its partition instead.
    const auto target = shared->lock();
    auto bytes = target->read_file(request.path);
    if (!bytes) {
      return error("InvalidParameter",
                   "cannot read " + request.path + ": " + bytes.error().message());
    }
    if (bytes->empty()) return error("InvalidParameter", request.path + " is empty");
    nand::Rng rng(nand::Rng::mix(options_.seeds.run, bytes->size()));
    for (std::uint32_t i = 0; i < std::max(1U, request.bits); ++i) {
      (*bytes)[rng.below(bytes->size())] ^= static_cast<std::uint8_t>(1U << rng.below(8));
    }
    if (auto ok = target->write_file(request.path, *bytes); !ok) {
      return error("GenericError", "cannot write " + request.path + ": " + ok.error().message());
    }
    emit("FILE_CORRUPTED", {{"file_system", request.file_system},
                            {"path", request.path},
                            {"bits", std::max(1U, request.bits)}});
    return FileCorrupted{request.path, std::max(1U, request.bits)};
  }
  auto partition = flash_->partition(request.partition);
  if (!partition) return error("InvalidParameter", partition.error().message());
  auto& part = **partition;
  if (request.kind != Kind::erase_partition && request.block >= part.geometry().block_count) {
    return error("InvalidParameter", "block beyond the partition's " +
                                         std::to_string(part.geometry().block_count) +
                                         " usable blocks");
  }
  const nand::PageAddr addr{
      request.kind == Kind::erase_partition ? 0 : part.physical_block(request.block), request.page};
  // Through the injector, under the flash's lock (FUSE threads share the
  // chip), with the damage vocabulary fault rules and `image inject` use.
  nand::Status done;
  using D = nand::Damage::Kind;
  switch (request.kind) {
    case Kind::bit_flips:
      done = flash_->lock().faults().damage(addr, {D::bit_flips, request.bits, request.sector});
      break;
    case Kind::uncorrectable:
      done = flash_->lock().faults().damage(addr, {D::uncorrectable, 0, request.sector});
      break;
    case Kind::unstable:
      done = flash_->lock().faults().damage(addr, {D::unstable, 0, {}});
      break;
    case Kind::bad_block:
      done = flash_->lock().faults().damage(addr, {D::bad_block, 0, {}});
      break;
    case Kind::erase_partition:
      for (std::uint32_t b = 0; b < part.geometry().block_count && done; ++b)
        done = part.erase(b);
      break;
    default:
      break;
  }
  if (!done) return error("GenericError", done.error().message());
  emit("NAND_FAULT", {{"injected", request.partition}, {"block", addr.block}, {"page", addr.page}});
  return NandDamaged{addr.block, addr.page};
}

Controlled<ModuleStats> Module::stats() {
  const auto table = flash_->table();
  ModuleStats out;
  // The flash's counters under its lock, and only them: the file systems
  // below take their own locks, always before the flash's.
  out.nand = nand::collect_stats(flash_->lock().storage(), &table);
  for (const MountedFs& slot : file_systems_) {
    if (!slot.fs) continue;
    if (auto st = slot.fs->lock()->statfs()) out.file_systems.emplace_back(slot.spec->name, *st);
  }
  return out;
}

namespace {

// A refused path is the caller's mistake; a disk that fails or fills is not.
ControlError snapshot_error(const nand::Error& e) {
  return {e.code == nand::Errc::invalid_argument || e.code == nand::Errc::bad_image
              ? "InvalidParameter"
              : "GenericError",
          e.detail.empty() ? e.message() : e.detail};
}

bool has_nul(const std::string& path) {
  return path.find('\0') != std::string::npos;
}

}  // namespace

// The copy of the flash is taken here, under its lock (a memcpy of what the
// device holds: the io thread, FUSE threads and downloads all write it under
// that lock, so the copy is one consistent instant); the file is written on
// file_io_ and the reply posted back.
void Module::snapshot_save(const std::string& path, SnapshotReply done) {
  if (has_nul(path)) {
    done(error("InvalidParameter", "path: contains a NUL byte"));
    return;
  }
  if (state_ != PowerState::off) {
    // Consistent enough: every completed NAND operation is in the copy, as if
    // power had been cut now.
    for (const MountedFs& slot : file_systems_) {
      if (!slot.fs) continue;
      (void)slot.fs->lock()->sync();
    }
  }
  auto copy = flash_->lock().storage().copy_in_memory();
  if (!copy) {
    done(error("GenericError", copy.error().message()));
    return;
  }
  std::shared_ptr<nand::Storage> image = std::move(*copy);
  const auto live = flash_->lock().storage().file_id();
  boost::asio::post(
      file_io_, [io = &io_, log = log_, image, live, path, done = std::move(done)]() mutable {
        auto written = image->export_image(path, live);
        std::error_code ec;  // the size is informative: 0 if the file is gone already
        std::uint64_t bytes = written ? std::filesystem::file_size(path, ec) : 0;
        if (ec) bytes = 0;
        boost::asio::post(*io,
                          [written = std::move(written), log, path, bytes, done = std::move(done)] {
                            if (!written) {
                              log->warn("snapshot-save {}: {}", path, written.error().message());
                              done(tl::unexpected(snapshot_error(written.error())));
                              return;
                            }
                            done(SnapshotDone{path, bytes});
                          });
      });
}

// The file is read and checked on file_io_ into a RAM copy; only a valid
// image is swapped in, on the io thread, if the module is still off.
void Module::snapshot_load(const std::string& path, SnapshotReply done) {
  if (state_ != PowerState::off) {
    done(error("DeviceBusy", "power the module off first (power-off or power-cut)"));
    return;
  }
  if (has_nul(path)) {
    done(error("InvalidParameter", "path: contains a NUL byte"));
    return;
  }
  const nand::Geometry geometry = flash_->geometry();
  boost::asio::post(file_io_, [this, geometry, path, done = std::move(done),
                               alive = std::weak_ptr<bool>(alive_)]() mutable {
    auto loaded = nand::Storage::load_into_memory(path, geometry);
    boost::asio::post(
        io_, [this, loaded = std::move(loaded), path, done = std::move(done), alive]() mutable {
          if (alive.expired()) {  // the module is gone, and its flash with it
            done(error("GenericError", "the module shut down; nothing was loaded"));
            return;
          }
          if (!loaded) {
            log_->warn("snapshot-load {}: {}", path, loaded.error().message());
            done(tl::unexpected(snapshot_error(loaded.error())));
            return;
          }
          if (state_ != PowerState::off) {
            done(error("DeviceBusy", "the module was powered on while " + path +
                                         " was read; nothing was loaded"));
            return;
          }
          if (auto ok = flash_->lock().storage().assign(**loaded); !ok) {
            done(tl::unexpected(snapshot_error(ok.error())));
            return;
          }
          log_->info("snapshot-load: the NAND now holds {}", path);
          done(SnapshotDone{path, std::nullopt});
        });
  });
}

Controlled<BackupReport> Module::backup_info(const std::string& file_system_or_empty) {
  // By default the AP file system's: the one AT+QPRTPARA=1 backs up for the host.
  const std::string file_system =
      file_system_or_empty.empty() ? profile_.file_system(FsRole::ap)->name : file_system_or_empty;
  if (!profile_.file_system(file_system)) return unknown_file_system(profile_, file_system);
  MountedFs* slot = mounted(file_system);
  if (!slot || state_ == PowerState::off) return error("DeviceNotActive", "the module is off");
  fs::BackupEngine* engine = slot->backup.engine.get();
  if (!engine) return error("GenericError", "no backup for the " + file_system + " file system");
  return BackupReport{slot->spec->name, engine->info()};
}

namespace {

SimReport sim_report(const SimCard& sim, bool changed) {
  return SimReport{.state = std::string(to_string(sim.state())),
                   .changed = changed,
                   .pin_enabled = sim.pin_enabled(),
                   .pin_retries = sim.pin_retries(),
                   .puk_retries = sim.puk_retries()};
}

}  // namespace

Controlled<SimReport> Module::sim_remove() {
  const bool changed = sim_->remove();
  if (changed) log_->info("SIM removed");
  return sim_report(*sim_, changed);
}

Controlled<SimReport> Module::sim_insert(bool fresh) {
  const bool changed = sim_->insert(fresh);
  if (changed)
    log_->info("SIM inserted{}: {}", fresh ? " (a new card)" : "", to_string(sim_->state()));
  return sim_report(*sim_, changed);
}

std::uint64_t Module::subscribe(std::function<void(const nlohmann::json&)> listener) {
  const std::uint64_t id = next_listener_++;
  listeners_[id] = Listener{std::move(listener)};
  return id;
}

void Module::unsubscribe(std::uint64_t id) {
  const auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  if (emitting_ > 0) {
    it->second.gone = true;  // emit() is iterating (maybe in this very listener)
  } else {
    listeners_.erase(it);
  }
}

}  // namespace vmodem::sim
