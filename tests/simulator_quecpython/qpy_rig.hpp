// A QuecPython module's flash in RAM (profile bg95-m3-quecpython), booted
// the way the module boots it: each file system through boot_file_system
// (guardians.hpp), then the guardians' second hook over /usr and /bak (the
// per-file restore). No ports, no timers: for the guardian's tests and its
// power-cut campaign. A power cut drops everything without a further write.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/profile.hpp>

#include "module/guardians.hpp"

namespace vmodem::sim::testing {

// The application a test ships: path ("/main.py") -> content.
struct AppFile {
  std::string path;
  std::string content;
};
// A test's text as the bytes a file system takes.
inline std::vector<std::uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}
// Writes `files` under `dir` (made when missing).
void write_app(const std::filesystem::path& dir, const std::vector<AppFile>& files);

// Every file and directory of a file system with its bytes, sorted.
using Tree = std::vector<std::pair<std::string, std::string>>;
bool record(fs::FileSystem& fs, const std::string& dir, Tree& tree);

enum class Booted : std::uint8_t { up, power_lost, failed };

class QpyRig {
 public:
  // Manufactures the module with `app` in /usr, and with `backup` in /bak
  // (checksum.json, backup_restore.json with `enabled`), then powers off.
  // `adjust` may change the profile first (the benchmark's larger /bak).
  static tl::expected<std::unique_ptr<QpyRig>, std::string> create(
      const std::filesystem::path& app, bool backup, bool enabled, std::uint64_t seed = 1,
      const std::function<void(Profile&)>& adjust = {});

  // Power on and boot every file system, then the guardians' hook.
  Booted power_on();
  // Orderly power-off: sync, drop, power off.
  void power_off();
  // What a power cut leaves: the file systems dropped, nothing written.
  void drop();
  // Power back (after a cut), armed rules gone.
  void restore_power();

  fs::FileSystem& usr() { return *fs_of(FsRole::ap); }
  fs::FileSystem& bak();
  Flash& flash() { return *flash_; }
  nand::FaultInjector& injector() { return flash_->lock().faults(); }
  // The injector's operation count when the last boot's hook started.
  std::uint64_t hook_started_at() const { return hook_started_at_; }
  // The last boot's FILE_RESTORED events (data) and the hook's count.
  const std::vector<nlohmann::json>& restored_events() const { return events_; }
  // The last boot's APP_FOTA events (data).
  const std::vector<nlohmann::json>& app_events() const { return app_events_; }
  // The profile's fota.app_journal (false: the unsafe reference), from the
  // next boot on.
  void set_app_journal(bool on) { profile_.fota.app_journal = on; }
  const Profile& profile() const { return profile_; }
  std::uint32_t files_restored() const { return files_restored_; }

 private:
  QpyRig() = default;
  Booted boot(bool manufacture);
  fs::FileSystem* fs_of(FsRole role);

  Profile profile_;
  std::unique_ptr<Flash> flash_;
  std::unique_ptr<FsBootEnv> env_;
  std::vector<FsBoot> booted_;  // in the profile's order
  std::vector<nlohmann::json> events_;
  std::vector<nlohmann::json> app_events_;
  std::uint32_t files_restored_ = 0;
  std::uint64_t hook_started_at_ = 0;
};

// A power-cut campaign case over one boot of the rig (the restore, an
// application update): rewind to the snapshot, boot until the cut, and for
// the verdict power up again and compare /usr with an uncut boot's.
struct BootCut : nand::campaign::InjectorCase {
  std::unique_ptr<QpyRig> rig;
  Tree final_tree;  // /usr after an uncut boot

  nand::FaultInjector& injector() override { return rig->injector(); }
  void rewind() override {
    rig->drop();
    rig->flash().lock().storage().snapshot_rollback();
    rig->restore_power();
    injector().reset_operation_count();
  }
  bool act() override { return rig->power_on() == Booted::power_lost; }

  // After the cut: the power back and a boot; a failure's verdict if the
  // boot did not come up.
  std::optional<nand::campaign::Verdict> boot_after_cut() {
    rig->drop();
    rig->restore_power();
    if (rig->power_on() != Booted::up)
      return nand::campaign::Verdict::fail("no boot", "the boot after the cut failed");
    return std::nullopt;
  }
  // A failure's verdict unless /usr is what an uncut boot left.
  std::optional<nand::campaign::Verdict> tree_differs() {
    Tree tree;
    if (!record(rig->usr(), "/", tree))
      return nand::campaign::Verdict::fail("unreadable", "/usr could not be read");
    if (tree == final_tree) return std::nullopt;
    std::string detail = "/usr differs from an uncut boot's:";
    for (const auto& [path, data] : tree)
      detail += " " + path + "(" + std::to_string(data.size()) + ")";
    return nand::campaign::Verdict::fail("wrong tree", detail);
  }
};

}  // namespace vmodem::sim::testing
