// A module's flash in RAM, booted through the module's own file-system boot
// (simulator/src/module/fs_boot.hpp), for power-cut campaigns and benchmarks.
//
// The rig plays the module's power state machine minus ports and timers:
// power-on boots the modem FS, RDY closes its boot-loop counter, then the AP
// FS boots and APP RDY closes its counter; AT+QPRTPARA=1/=11 commit and back
// up, =3/=13 schedule a restore. A power cut drops everything without a
// further write, as Module::lose_power does. No gtest here: benchmarks use it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/fs/backup.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/profile.hpp>

#include "module/guardians.hpp"

namespace vmodem::sim::testing {

enum class Side : std::uint8_t { modem, ap };
inline PartitionRole role_of(Side side) {
  return side == Side::ap ? PartitionRole::ap_fs : PartitionRole::modem_fs;
}
inline const char* name_of(Side side) {
  return side == Side::ap ? "ap" : "modem";
}

// How far a power-on got.
enum class BootResult : std::uint8_t {
  app_rdy,     // both file systems up, both boot counters closed
  power_lost,  // a cut during the boot
  failed,      // a file system could not be brought up (no RDY / no APP RDY)
};

// A file system's tree as recorded: every directory and file path in
// readdir order (sorted), with each file's bytes. Campaigns compare the tree
// a boot brings up with the trees they recorded byte for byte (cheaper than
// hashing both, and exact).
struct Tree {
  struct Entry {
    std::string path;
    bool directory = false;
    std::vector<std::uint8_t> data;  // files only
  };
  std::vector<Entry> entries;
};
// nullopt when a read fails.
std::optional<Tree> record_tree(fs::FileSystem& fs);
// True when `fs` holds exactly `tree`: the same paths and types in the same
// order, every file with the same bytes. False at the first difference or
// failed read.
bool holds_tree(fs::FileSystem& fs, const Tree& tree);

class ModuleRig {
 public:
  // Manufactures a module flash in RAM for `profile_name` with the given
  // power-loss mode: the first boot formats both file systems, installs the
  // factory files and makes the production-line backups; then powers off.
  static tl::expected<std::unique_ptr<ModuleRig>, std::string> create(
      fs::PowerLossMode mode, std::uint64_t seed, const std::string& profile_name = "bg95-m3");

  // Powers on and boots as the module does. `before` (may be empty) runs
  // just before each file system's boot, e.g. to arm a cut at an operation
  // of that boot.
  BootResult power_on(const std::function<void(Side)>& before = {});
  // The module as a boot leaves it, without booting: `side`'s file system
  // mounted and its backup engine opened over the flash as it is (which
  // already holds what that boot wrote). Campaigns roll the flash back to a
  // booted state and attach, instead of booting before every cut. Until the
  // next power_on, backup() and engine() use what attach() opened. False when
  // the mount or the engine fails.
  bool attach(Side side);
  // AT+QPRTPARA=1 / =11: commit what the host wrote, then back up.
  fs::Status backup(Side side);
  // AT+QPRTPARA=3 / =13.
  fs::Status schedule_restore(Side side);
  // Orderly power-off (AT+QPOWD): sync, unmount, power off.
  void power_off();
  // What a power cut does after the fact: drop everything, write nothing.
  void drop();
  // Power is back for the next boot; armed rules are cleared.
  void restore_power();

  FsBoot& booted(Side side) {
    if (attached_ && side == attached_side_) return held_;
    return side == Side::ap ? ap_ : modem_;
  }
  fs::FileSystem* file_system(Side side) { return booted(side).fs.get(); }
  fs::BackupEngine* engine(Side side) { return booted(side).backup.engine.get(); }
  Flash& flash() { return *flash_; }
  const Profile& profile() const { return profile_; }
  const FsBootEnv& env() const { return *env_; }

 private:
  ModuleRig() = default;
  BootResult boot_side(Side side, const std::function<void(Side)>& before);

  Profile profile_;
  std::unique_ptr<Flash> flash_;
  std::unique_ptr<FsBootEnv> env_;
  FsBoot modem_, ap_;
  FsBoot held_;  // what attach() opened
  Side attached_side_ = Side::modem;
  bool attached_ = false;
};

}  // namespace vmodem::sim::testing
