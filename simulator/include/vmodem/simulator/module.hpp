// The running module: flash, file systems, AT ports and the power state
// machine that ties them together.
//
//   OFF --power_on--> BOOTING --(modem FS mounted, rdy_after)--> RDY
//       --(AP FS mounted, app_rdy_after)--> APP_RDY
//
// A power cut (control socket, a NAND fault rule, or the process killed)
// drops to OFF from anywhere at once: ports vanish, file systems are dropped
// without a single further write, and the next power-on boots from whatever
// the NAND holds. An orderly power-off (AT+QPOWD, control power-off) and a
// reset (AT+CFUN=1,1) sync the file systems first.
//
// Ports appear at RDY (USB-style ports are created then; a UART-style port
// drops input until then), so before RDY the module answers nothing.
//
// Threading: everything runs on the io_context the module was created with;
// control requests and timers are posted to it.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <vmodem/at/pty_port.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/shared.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>
#include <vmodem/simulator/control_target.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/module_services.hpp>
#include <vmodem/simulator/module_state.hpp>
#include <vmodem/simulator/profile.hpp>

namespace spdlog {
class logger;
}

namespace vmodem::sim {

struct ModuleOptions {
  std::filesystem::path state_dir;
  // The NAND image; empty: <state_dir>/nand.img.
  std::filesystem::path image;
  // Refuse an image that exists already (`vmodem image create`): the module
  // is made to manufacture a new one, never to boot someone's old image.
  bool new_image = false;
  // false: no AT, modem or NMEA port at all (manufacture boots the module
  // once with nobody to talk to; state_dir may then be empty).
  bool ports = true;
  Seeds seeds{1};
  bool real_time = false;  // boot timings and NAND pacing at a real module's speed
  bool uart_port = false;  // also serve a UART-style port (ttyS0) that survives resets
  // The NAND in RAM, freshly manufactured, instead of <state_dir>/nand.img
  // (fuzzing: nothing is written to the host but the port links).
  bool ram_flash = false;
  // Run on this flash instead of opening one (`image` and `ram_flash` are
  // then ignored). Two modules of one profile may share a flash in one
  // process: a branching campaign's second module boots on the flash the
  // first one's run is suspended inside a NAND operation of (such a flash
  // is Flash::Threads::one, and only one of the modules is powered at a
  // time). The flash's faults go to the module that took its listener last
  // (take_fault_listener()).
  std::shared_ptr<Flash> flash;
  // With `flash`: its production-line boot was done (by the module sharing
  // it), so this module's first boot does not format it.
  bool factory_booted = false;
  // Non-empty: mount the AP FS at <mount_dir>/ufs and the modem FS at
  // <mount_dir>/efs over FUSE while the module is APP RDY.
  std::filesystem::path mount_dir;
  // This module's log (nullptr: spdlog's default logger): `run --count`
  // gives each module its own file.
  std::shared_ptr<spdlog::logger> log;
  // Every byte on every port, for the AT trace (may be empty).
  std::function<void(const std::string& port, at::TraceDirection, std::span<const std::uint8_t>)>
      trace;
  // Called each time a port's link in the state directory is pointed at a
  // new PTY (may be empty): `vmodem run` tells its link reaper.
  std::function<void(const std::filesystem::path& link)> port_linked;
  // The module's packet network (AT+QIOPEN): networks it reaches besides
  // loopback ("10.0.0.0/8", an address), and names it resolves
  // ("example.test" -> "127.0.0.1").
  std::vector<std::string> allow_net;
  std::map<std::string, std::string> hosts;
};

namespace net {
class Reach;
class SocketService;
}  // namespace net
class NvSettings;
class SimCard;
namespace sms {
class SmsService;
}
class GnssReceiver;
class LiveMounts;
class FileHandles;
class BootSequence;
namespace quecopen {
class BootScript;
}
struct FsBootEnv;
struct BootAction;

// One file system's backup (SPEC §4): its backup data and info partitions and
// the engine over them. Opened at every boot: an engine is dead after a
// power loss.
struct BackupSide {
  std::unique_ptr<nand::Partition> data, info;
  std::unique_ptr<fs::BackupEngine> engine;  // nullptr: the profile has no backup partitions
  void close() {
    engine.reset();
    data.reset();
    info.reset();
  }
};

// A file system of the profile (Profile::file_systems) as the module holds
// it: brought up at each boot, closed at every power transition. Members are
// destroyed bottom-up: the file system and the engine before the partitions.
struct MountedFs {
  const FileSystemSpec* spec = nullptr;  // in the module's profile
  std::unique_ptr<nand::Partition> partition;
  std::unique_ptr<nand::ubi::UbiDevice> ubi;        // a file system in a UBI volume
  std::unique_ptr<nand::ubi::VolumeDevice> volume;  // its volume, over ubi
  BackupSide backup;
  std::unique_ptr<fs::SharedFileSystem> fs;  // nullptr unless mounted
  void close() {
    fs.reset();
    backup.close();
    volume.reset();
    ubi.reset();
    partition.reset();
  }
};

class Module final : public ControlTarget,
                     public PowerControl,
                     public UrcSink,
                     public FileSystems,
                     public FirmwareUpdate {
 public:
  // Opens or manufactures the NAND image in options.state_dir. Does not power
  // on (call power_on()). Errors are messages for the user; `cause` as for
  // Flash::open (no_space: the host's disk cannot hold the image).
  static tl::expected<std::unique_ptr<Module>, std::string> create(boost::asio::io_context& io,
                                                                   Profile profile,
                                                                   ModuleOptions options,
                                                                   nand::Errc* cause = nullptr);
  ~Module() override;

  PowerState power_state() const override { return state_; }
  std::vector<PortInfo> ports() const;
  const Profile& profile() const { return profile_; }
  spdlog::logger& log() const { return *log_; }
  Flash& flash() { return *flash_; }
  // The flash, for a second module to share (ModuleOptions::flash).
  std::shared_ptr<Flash> shared_flash() { return flash_; }
  // The command set every port's engine runs, gated by the power state. An
  // in-process host (the module fuzzer) drives an at::Engine of its own over
  // it instead of a PTY.
  const at::Registry& registry() const { return registry_; }
  // The mounted file systems (nullptr unless mounted): by role, or by the
  // name, alias or partition the profile gives them.
  fs::SharedFileSystem* file_system(FsRole role) override;
  fs::SharedFileSystem* file_system(std::string_view name) override;
  fs::SharedFileSystem* modem_fs() { return file_system(FsRole::modem); }
  fs::SharedFileSystem* ap_fs() { return file_system(FsRole::ap); }
  std::uint64_t boots() const { return boots_; }
  // The one power-loss signal: set the moment a cut strikes (by the fault
  // injector's listener, on the thread of the struck NAND call, or by a hand
  // cut), cleared at power-on. A NAND call that failed for lack of power
  // needs nothing more from its caller: the module goes down on its own.
  bool power_lost() const { return power_gone_.load(std::memory_order_relaxed); }
  // The backup engine of a file system (nullptr while off or without backup
  // partitions).
  fs::BackupEngine* backup_engine(FsRole role) override;

  // Orderly stop for process exit: sync file systems and the image.
  void shutdown();
  // Points the flash's fault listener at this module (create() does): the
  // module whose power a cut takes. Of two modules sharing a flash
  // (ModuleOptions::flash), the one about to run takes it.
  void take_fault_listener();

  // --- ControlTarget ---
  Controlled<ModuleStatus> status() override;
  Controlled<PowerState> power_on() override;
  Controlled<PowerState> power_off() override;
  Controlled<PowerCutOutcome> power_cut(const PowerCutRequest& request) override;
  Controlled<PowerState> reset() override;
  Controlled<InjectOutcome> inject(const InjectRequest& request) override;
  Controlled<ModuleStats> stats() override;
  void snapshot_save(const std::string& path, SnapshotReply done) override;
  void snapshot_load(const std::string& path, SnapshotReply done) override;
  Controlled<BackupReport> backup_info(const std::string& file_system_or_empty) override;
  Controlled<FileChecksum> file_crc32(const std::string& path) override;
  Controlled<FileChecksum> checksum_update(const std::string& path) override;
  Controlled<AppFotaStaged> app_fota(const std::string& path) override;
  void app_sync(AppSyncReply done) override;
  Controlled<FastbootErased> fastboot_erase(const std::string& partition) override;
  Controlled<SimReport> sim_remove() override;
  Controlled<SimReport> sim_insert(bool fresh) override;
  Controlled<NetworkReport> network(const NetworkRequest& request) override;
  Controlled<GnssReport> gnss(const GnssRequest& request) override;
  Controlled<SmsDelivered> sms_deliver(const SmsDeliverRequest& request) override;
  Controlled<std::vector<SmsRecord>> sms_outbox(bool clear) override;
  Controlled<std::vector<nand::ArmedRule>> faults() override;
  Controlled<std::vector<std::uint32_t>> disarm(std::optional<std::uint32_t> id) override;
  std::uint64_t subscribe(std::function<void(const nlohmann::json& event)> listener) override;
  void unsubscribe(std::uint64_t id) override;

  // --- the parts the command set reaches (module_services.hpp) ---
  void send_urc(const std::string& line) override;   // on the port AT+QURCCFG names
  void request_reset() override;                     // AT+CFUN=1,1, after its OK
  void request_power_down(bool immediate) override;  // AT+QPOWD
  NvSettings& nv() { return *nv_; }
  RuntimeState& runtime() { return runtime_; }
  // The loop the module runs on: work finished on other threads (downloads)
  // is posted back to it.
  boost::asio::io_context& io_context() { return io_; }
  void emit(const std::string& event, nlohmann::json data);
  // Called on the io thread after every power-state change (the typed
  // counterpart of the POWER_STATE event, for the module's own parts).
  void on_power_state(std::function<void(PowerState)> listener) override {
    power_listeners_.push_back(std::move(listener));
  }

  // --- firmware update (module/fota.cpp; SPEC §7) ---
  // Stores a complete downloaded delta package in the FOTA area and, once it
  // is stored and marked complete, schedules a reset (the USB ports vanish
  // and return) whose boot applies it with the +QIND: "FOTA" URCs. Returns 0
  // when staged, or the code the caller reports with +QIND: "FOTA","END",<n>:
  // 511 larger than the FOTA area, 502 the flash failed while storing. The
  // package's content is checked by that boot, as on the real module.
  int stage_firmware_update(std::span<const std::uint8_t> package) override;
  // The running firmware's version string (ATI Revision, AT+CGMR, AT+QGMR),
  // read from the NAND boot record at power-on.
  std::string firmware_version() const override;

 private:
  // Firmware (fota.cpp): at power-on, reads the firmware from NAND and, if a
  // complete package is staged, runs the update (its +QIND: "FOTA" URCs on
  // the ports) before the file systems mount, then boots again. True when
  // the boot must stop here (the update took over, or power was lost).
  bool start_firmware_update();
  void step_firmware_update();
  struct FirmwareRuntime;
  std::shared_ptr<FirmwareRuntime> firmware_;  // shared_ptr: complete type only in fota.cpp
  Module(boost::asio::io_context& io, Profile profile, ModuleOptions options,
         std::shared_ptr<Flash> flash);
  tl::expected<void, std::string> open_ports();
  void build_registry();
  void set_state(PowerState state);
  // Logs (once per new loss) pages of the image file found gone: see
  // nand::Storage::lost_pages.
  void check_image();
  std::chrono::milliseconds scaled(std::uint32_t ms) const;
  std::chrono::milliseconds before_ports_go(std::uint32_t ms) const;
  void after(std::chrono::milliseconds delay, std::function<void()> action);
  // Boot steps (boot.cpp), in the order boot_ gives them.
  void start_boot();
  void run_boot();  // runs the steps that are due, sets a timer for the next
  bool run_boot_step(const BootAction& action);  // false: the boot stops here
  // Brings up the file systems of a boot stage through the family's
  // guardians (guardians.hpp): the modem one before RDY, the others before
  // APP RDY. False when one failed (BOOT_FAILED) or the power went.
  bool mount_stage(bool before_rdy);
  const FsBootEnv& boot_env();
  void load_nv_settings();  // reports each field that fell back (NV_SETTING_INVALID)
  void reach_rdy();
  // Each second from RDY to the next power transition: the GNSS session's
  // sentences to the NMEA port (ttyUSB1), as AT+QGPSCFG="outport" says.
  void tick_nmea(std::uint64_t epoch);
  void reach_app_rdy();
  void note_boot_completed(bool before_rdy);
  MountedFs* mounted(FsRole role);
  MountedFs* mounted(std::string_view name);
  // Every file system dropped: no further write (power lost), or after a sync.
  void close_file_systems();
  // Leaving the powered states.
  void lose_power();    // immediate: no writes
  void stop_orderly();  // sync, then off
  void disconnect_ports();
  void on_fault(const nand::FaultEvent& event);

  boost::asio::io_context& io_;
  Profile profile_;
  ModuleOptions options_;
  std::shared_ptr<spdlog::logger> log_;  // never null
  std::shared_ptr<Flash> flash_;         // shared only with ModuleOptions::flash
  PowerState state_ = PowerState::off;
  std::unique_ptr<BootSequence> boot_;  // complete type only in the module's sources
  // What each file system's boot needs (config, backup options, the factory
  // checks read from the profile's factory files): built at the first boot,
  // again only when a loaded snapshot brings another manufacture seed.
  std::unique_ptr<FsBootEnv> boot_env_;
  bool app_side_up_ = false;  // this boot mounted the file systems APP RDY needs
  // The guardians' second hook over the stage's mounted file systems
  // (guardians.hpp). False when the power went.
  bool run_stage_guardians(bool before_rdy);
  // EC2x QuecOpen: the profile's boot script (app_sync.boot_script) over
  // the AP stage's file systems; `then` runs on the io thread when it has
  // ended (not when a power transition ends it first: stop_boot_script).
  // False, with the reason logged and in `why`, when it could not start.
  bool start_boot_script(const char* by, std::function<void(const BootScriptRun&)> then,
                         std::string* why);
  // The boot waits at the AP stage for the script; false when it did not start.
  bool boot_script_in_boot();
  Controlled<AppSyncDone> sync_apps_now();  // the built-in sync, for ctl app-sync
  // Any script running dies with its mounts (a power transition); a `ctl
  // app-sync` waiting for it gets an error.
  void stop_boot_script();
  std::unique_ptr<quecopen::BootScript> boot_script_;
  AppSyncReply boot_script_reply_;  // `ctl app-sync`'s, while its script runs
  std::uint64_t epoch_ = 0;         // bumped on every power transition: stale timers check it
  // A reset or power-down is on its way (AT+CFUN=1,1, AT+QPOWD, a staged
  // update): every command answers ERROR until the power state changes.
  bool going_down_ = false;
  // Set the moment an armed cut strikes (on the thread of the NAND call),
  // cleared at power-on: the ports send nothing while it is set.
  std::atomic<bool> power_gone_{false};
  std::vector<std::unique_ptr<boost::asio::steady_timer>> timers_;
  std::optional<boost::asio::steady_timer> nmea_timer_;  // tick_nmea's
  at::Registry registry_;
  std::map<std::string, std::unique_ptr<at::PtyPort>> ports_;
  // One per Profile::file_systems entry, in boot order.
  std::vector<MountedFs> file_systems_;
  // Declared after the file systems: destroyed (unmounted) before them.
  std::unique_ptr<LiveMounts> live_mounts_;
  std::unique_ptr<NvSettings> nv_;
  std::unique_ptr<FileHandles> file_handles_;  // the file commands' handles and uploads
  std::unique_ptr<net::Reach> reach_;
  std::unique_ptr<net::SocketService> sockets_;  // AT+QIOPEN's; all dropped with the ports
  std::unique_ptr<SimCard> sim_;                 // the card in the slot (across boots)
  std::unique_ptr<sms::SmsService> sms_;         // its store is on the modem FS
  std::unique_ptr<GnssReceiver> gnss_;           // AT+QGPS's; its world outlives boots
  RuntimeState runtime_;
  // Event listeners by id. One unsubscribed while emit() hands out an event
  // is only marked gone (it may be the one running) and erased after.
  struct Listener {
    std::function<void(const nlohmann::json&)> call;
    bool gone = false;
  };
  std::map<std::uint64_t, Listener> listeners_;
  unsigned emitting_ = 0;  // emit() calls in progress (a listener may emit)
  std::vector<std::function<void(PowerState)>> power_listeners_;
  std::uint64_t next_listener_ = 1;
  std::uint64_t boots_ = 0;
  // Files the boot-time guardians restored (QuecPython: from /bak): in the
  // last boot, and since the process started.
  std::uint64_t files_restored_ = 0;
  std::uint64_t files_restored_total_ = 0;
  // QuecPython's application updates (quecpython_control.cpp): applied
  // since the process started, the last outcome, and the END code the host
  // hears after APP RDY of the boot that applied or refused one.
  std::uint64_t app_updates_total_ = 0;
  std::string last_app_update_;
  std::optional<int> app_update_urc_;
  // Stages an application package in /usr (ctl app-fota, AT+QFOTADL); a
  // refusal carries the END code AT+QFOTADL reports and the control error.
  struct AppRefusal {
    int end_code = 502;
    ControlError error;
  };
  tl::expected<AppFotaStaged, AppRefusal> stage_app_update(std::span<const std::uint8_t> package,
                                                           const std::string& from);
  // The boot's APP_FOTA event, noted for ctl status and the URC.
  void note_app_update(const nlohmann::json& data);
  // A freshly manufactured image: the first boot formats the file systems
  // and installs the factory files (the production line), quietly.
  bool manufacture_pending_ = false;
  std::chrono::steady_clock::time_point powered_at_{};
  // Snapshot files are written and read here, never on the io thread; work
  // finished here is posted back to io_ and checks `alive_` first.
  std::uint64_t lost_pages_reported_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::thread_pool file_io_{1};
};

}  // namespace vmodem::sim
