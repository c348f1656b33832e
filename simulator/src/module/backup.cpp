// Module: its file systems (Profile::file_systems) and their backup engines
// (AT+QPRTPARA, SPEC §4). An engine is opened at every boot over the
// profile's backup data and info partitions (by fs_boot.cpp, with the
// boot-loop counter of probe 10); the counter is closed here at RDY (modem)
// and APP RDY (the others).
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

namespace vmodem::sim {

void Module::note_boot_completed(bool before_rdy) {
  for (MountedFs& slot : file_systems_) {
    if ((slot.spec->role == FsRole::modem) != before_rdy || !slot.backup.engine) continue;
    if (auto ok = slot.backup.engine->note_boot_completed(); !ok) {
      // A power cut here takes the module down through on_fault.
      if (ok.error().code != fs::Errc::power_loss)
        log_->warn("{} backup: boot counter not updated: {}", slot.spec->name,
                   ok.error().message());
    }
  }
}

MountedFs* Module::mounted(FsRole role) {
  for (MountedFs& slot : file_systems_) {
    if (slot.spec->role == role) return &slot;
  }
  return nullptr;
}

MountedFs* Module::mounted(std::string_view name) {
  const FileSystemSpec* spec = profile_.file_system(name);
  for (MountedFs& slot : file_systems_) {
    if (slot.spec == spec) return &slot;
  }
  return nullptr;
}

fs::SharedFileSystem* Module::file_system(FsRole role) {
  MountedFs* slot = mounted(role);
  return slot ? slot->fs.get() : nullptr;
}

fs::SharedFileSystem* Module::file_system(std::string_view name) {
  MountedFs* slot = mounted(name);
  return slot ? slot->fs.get() : nullptr;
}

fs::BackupEngine* Module::backup_engine(FsRole role) {
  MountedFs* slot = mounted(role);
  return slot ? slot->backup.engine.get() : nullptr;
}

void Module::close_file_systems() {
  // Last first: the modem file system, which the others' firmware needs,
  // goes last.
  for (auto slot = file_systems_.rbegin(); slot != file_systems_.rend(); ++slot)
    slot->close();
}

}  // namespace vmodem::sim
