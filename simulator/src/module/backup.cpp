// Module: the file-system backup engines (AT+QPRTPARA, SPEC §4). One engine
// per file system, opened at every boot over the profile's backup data and
// info partitions (by fs_boot.cpp, with the boot-loop counter of probe 10);
// the counter is closed here at RDY (modem) and APP RDY (AP).
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

namespace vmodem::sim {

void Module::note_boot_completed(const std::string& which, BackupSide& side) {
  if (!side.engine) return;
  if (auto ok = side.engine->note_boot_completed(); !ok) {
    // A power cut here takes the module down through on_fault.
    if (ok.error().code != fs::Errc::power_loss)
      spdlog::warn("{} backup: boot counter not updated: {}", which, ok.error().message());
  }
}

void Module::close_backups() {
  ap_backup_.close();
  modem_backup_.close();
}

}  // namespace vmodem::sim
