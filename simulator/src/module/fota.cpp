// Firmware update inside the module (SPEC §7): staging a downloaded package
// in the FOTA area, and at power-on reading the firmware from NAND and
// applying a staged package before the file systems mount.
//
// How the update's URCs reach the host: a real module's update agent runs
// before the application firmware and prints on the USB AT port. Here the
// ports, present but silent while booting, start answering at the first
// update event, so +QIND: "FOTA","START" .. "END" arrive on the same PTY
// that then prints RDY (the module boots again on the firmware now in
// force; the port stays). While the update runs, commands that need RDY
// answer ERROR.
#include <spdlog/spdlog.h>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fota/fota_area.hpp>
#include <vmodem/fota/nand_update.hpp>
#include <vmodem/simulator/module.hpp>

#include "module/fota_firmware.hpp"

namespace vmodem::sim {

struct Module::FirmwareRuntime {
  std::string version;  // of the firmware this boot runs
  std::unique_ptr<fota::FirmwareStore> store;
  std::unique_ptr<fota::FotaArea> area;
  std::unique_ptr<fota::NandUpdate> update;
  bool ports_up = false;
  // The firmware images earlier boots verified (kept across boots).
  fota::VerifiedImages verified;
  void close() {
    update.reset();
    area.reset();
    store.reset();
    ports_up = false;
  }
};

int Module::stage_firmware_update(std::span<const std::uint8_t> package) {
  // QuecPython's application packages go into /usr, not the FOTA area.
  if (fota::is_app_package(package)) {
    auto staged = stage_app_update(package, "AT+QFOTADL");
    if (!staged) return staged.error().end_code;
    request_reset();
    return 0;
  }
  auto spec = fota_partition(profile_);
  if (!spec) {
    log_->error("FOTA: {}", spec.error());
    return 502;
  }
  // A power cut here takes the module down through on_fault; the 502 then
  // reaches nobody (the ports fall silent at the cut).
  auto area = fota::FotaArea::open(flash_->device(), *spec);
  if (!area) {
    log_->error("FOTA: {}", area.error().message);
    return 502;
  }
  if (auto st = (*area)->stage(package); !st) {
    log_->warn("FOTA: staging a {}-byte package failed: {}", package.size(), st.error().message);
    if (st.error().code == fota::ErrorCode::kNoSpace) return 511;
    return 502;
  }
  log_->info("FOTA: {}-byte package stored in the FOTA area; resetting to apply it",
             package.size());
  emit("FOTA_STAGED", {{"bytes", package.size()}});
  request_reset();
  return 0;
}

std::string Module::firmware_version() const {
  if (firmware_ && !firmware_->version.empty()) return firmware_->version;
  // Not booted yet: the newest boot record says what will run.
  if (auto layout = firmware_layout(profile_)) {
    if (auto store = fota::FirmwareStore::open(flash_->device(), *layout);
        store && !(*store)->records().empty()) {
      return (*store)->records().front().version;
    }
  }
  return profile_.identity.revision;
}

bool Module::start_firmware_update() {
  if (!firmware_) firmware_ = std::make_shared<FirmwareRuntime>();
  FirmwareRuntime& fw = *firmware_;
  fw.close();
  fw.version = profile_.identity.revision;
  auto layout = firmware_layout(profile_);
  if (!layout) {
    log_->debug("firmware: {}", layout.error());
    return false;
  }
  auto store = fota::FirmwareStore::open(flash_->device(), *layout);
  if (!store) {
    if (power_lost()) return true;
    log_->error("firmware store: {}", store.error().message);
    return false;
  }
  auto loaded = (*store)->load_record(&fw.verified);
  if (!loaded && !fota::is_flash_failure(loaded.error().code)) {
    // No bootable firmware: an image from before firmware lived in NAND,
    // or both slots damaged outside an update. The module reinstalls the
    // factory firmware (as a service tool would) and says so.
    log_->warn("firmware: {}; installing the factory firmware", loaded.error().message);
    emit("FIRMWARE_FACTORY", {{"reason", loaded.error().message}});
    auto installed =
        install_factory_firmware(profile_, flash_->device(), flash_->manufacture_seed());
    if (!installed && !power_lost()) log_->error("firmware: {}", installed.error());
    if (power_lost()) return true;
    store = fota::FirmwareStore::open(flash_->device(), *layout);
    if (store) loaded = (*store)->load_record(&fw.verified);
  }
  if (!store || !loaded) {
    if (power_lost()) return true;
    log_->error("firmware: no bootable firmware");
    return false;
  }
  fw.version = loaded->record.version;
  if (loaded->fell_back) {
    log_->warn("firmware: the newest firmware failed its checks ({}); running {}", loaded->why,
               fw.version);
    emit("FIRMWARE_FALLBACK", {{"version", fw.version}, {"reason", loaded->why}});
  }
  fw.store = std::move(*store);

  auto spec = fota_partition(profile_);
  if (!spec) return false;
  auto area = fota::FotaArea::open(flash_->device(), *spec);
  if (!area) {
    if (power_lost()) return true;
    log_->error("FOTA area: {}", area.error().message);
    return false;
  }
  fw.area = std::move(*area);
  fota::UpdateOptions options;
  options.on_event = [this](const fota::UpdateEvent& e) {
    FirmwareRuntime& rt = *firmware_;
    if (!rt.ports_up) {
      // The update agent talks on the ports (see the file comment).
      for (auto& [name, port] : ports_) {
        if (auto ok = port->reconnect(); !ok) {
          log_->error("port {}: {}", name, ok.error().message);
        }
      }
      rt.ports_up = true;
    }
    send_urc(fota::fota_urc(e));
    switch (e.phase) {
      case fota::UpdatePhase::start:
        emit("FOTA_START", {{"version", rt.version}});
        break;
      case fota::UpdatePhase::restore:
      case fota::UpdatePhase::updating:
        emit("FOTA_PROGRESS",
             {{"phase", e.phase == fota::UpdatePhase::restore ? "restore" : "updating"},
              {"percent", e.value}});
        break;
      case fota::UpdatePhase::end: {
        nlohmann::json data = {{"code", e.value}};
        if (rt.update) {
          const auto& outcome = rt.update->outcome();
          data["from"] = outcome.source_version;
          data["to"] = outcome.target_version;
          data["resumed"] = outcome.resumed;
          if (!outcome.message.empty()) data["message"] = outcome.message;
        }
        emit("FOTA_END", data);
        break;
      }
    }
  };
  auto update = fota::NandUpdate::begin(*fw.store, *fw.area, std::move(options));
  if (!update) {
    log_->warn("firmware update: {}", update.error().message);
    return true;  // only a power loss fails begin()
  }
  if (!*update) {
    fw.area.reset();
    fw.store.reset();
    return false;
  }
  log_->info("firmware update: a staged package found, running {}", fw.version);
  fw.update = std::move(*update);
  after(std::chrono::milliseconds(0), [this] { step_firmware_update(); });
  return true;
}

void Module::step_firmware_update() {
  FirmwareRuntime& fw = *firmware_;
  if (!fw.update) return;
  auto done = fw.update->step();
  if (!done) {
    // Power went: the next power-on continues from the journal.
    log_->warn("firmware update interrupted: {}", done.error().message);
    return;
  }
  if (!*done) {
    after(std::chrono::milliseconds(0), [this] { step_firmware_update(); });
    return;
  }
  const auto& outcome = fw.update->outcome();
  if (outcome.end_code == 0) {
    log_->info("firmware update {} -> {} done{}", outcome.source_version, outcome.target_version,
               outcome.resumed ? " (resumed)" : "");
  } else {
    log_->warn("firmware update refused or failed: END {} ({})", outcome.end_code, outcome.message);
  }
  fw.close();
  // The module restarts on the firmware now in force.
  start_boot();
}

}  // namespace vmodem::sim
