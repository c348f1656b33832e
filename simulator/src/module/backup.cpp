// Module: the file-system backup engines (AT+QPRTPARA, SPEC §4). One engine
// per file system, opened at every boot over the profile's backup data and
// info partitions; the boot-loop counter (probe 10) is closed at RDY (modem)
// and APP RDY (AP).
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "module/fs_config.hpp"

namespace vmodem::sim {

void Module::open_backup(const std::string& which, PartitionRole role,
                         nand::Partition& fs_partition) {
  const bool ap = role == PartitionRole::ap_fs;
  BackupSide& side = ap ? ap_backup_ : modem_backup_;
  side.close();
  const PartitionEntry* data =
      profile_.find_role(ap ? PartitionRole::ap_fs_backup : PartitionRole::modem_fs_backup);
  const PartitionEntry* info = profile_.find_role(ap ? PartitionRole::ap_fs_backup_info
                                                     : PartitionRole::modem_fs_backup_info);
  // Older modules (UC20) have no backup: AT+QPRTPARA answers ERROR there.
  if (!data || !info) return;
  auto data_part = flash_->partition(data->spec.name);
  auto info_part = flash_->partition(info->spec.name);
  if (!data_part || !info_part) {
    spdlog::error("{} backup: {}", which, !data_part ? data_part.error() : info_part.error());
    return;
  }
  side.data = std::move(*data_part);
  side.info = std::move(*info_part);
  fs::BackupOptions options;
  options.mode =
      profile_.backup.safe_power_loss ? fs::PowerLossMode::safe : fs::PowerLossMode::real;
  options.fs_config = fs_config(profile_);
  // A restored file system keeps the identity the production line gave it.
  options.format.volume_id = flash_->storage().manufacture_seed();
  auto engine = fs::BackupEngine::open(fs_partition, *side.data, *side.info, options);
  if (!engine) {
    spdlog::error("{} backup unavailable: {}", which, engine.error().message());
    side.close();
    return;
  }
  side.engine = std::move(*engine);
}

void Module::note_boot_completed(const std::string& which, BackupSide& side) {
  if (!side.engine) return;
  if (auto ok = side.engine->note_boot_completed(); !ok) {
    spdlog::warn("{} backup: boot counter not updated: {}", which, ok.error().message());
    flash_failed();
  }
}

void Module::close_backups() {
  ap_backup_.close();
  modem_backup_.close();
}

}  // namespace vmodem::sim
