// What the control socket can ask of a running module. The control server
// (src/control/) validates each request against its schema, calls one of
// these, and writes the typed answer as JSON (src/control/replies.cpp: the
// one place that knows the wire layout); Module implements them. Every call
// runs on the module's executor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/stats.hpp>
#include <vmodem/simulator/module_state.hpp>

namespace vmodem::sim {

// QMP-style error: a small closed set of classes plus a readable text.
struct ControlError {
  std::string error_class;  // "GenericError", "CommandNotFound", "InvalidParameter",
                            // "DeviceNotActive" (module off), "DeviceBusy"
  std::string desc;
};
template <class T>
using Controlled = tl::expected<T, ControlError>;

// A port as the host sees it.
struct PortInfo {
  std::string name;              // "at", "modem", "uart"
  std::filesystem::path link;    // stable path in the state directory
  std::filesystem::path device;  // current /dev/pts/N (empty while absent)
  bool usb = true;
};

struct ModuleStatus {
  PowerState power = PowerState::off;
  std::string model, profile, revision;
  std::uint64_t seed = 0;
  std::filesystem::path state_dir;
  std::vector<PortInfo> ports;
  std::uint64_t boots = 0;
  std::int64_t uptime_ms = 0;  // since power-on; 0 while off
  // Every step of the boot has run, the URCs after APP RDY (+QIND: PB DONE)
  // included: the port is quiet until something happens. false while off or
  // booting, and after a boot that stopped (a file system that did not come up).
  bool boot_complete = false;
  bool real_time = false;
  std::uint64_t nand_operations = 0;
  std::uint64_t image_lost_pages = 0;  // pages of the image file found gone (nand::Storage)
  std::string sim;                     // the SIM's state, as SimReport::state
  // Files the boot-time guardians restored (QuecPython: /usr from /bak), in
  // the last boot and since the daemon started.
  std::uint64_t files_restored = 0;
  std::uint64_t files_restored_total = 0;
  // QuecPython's application updates (app FOTA) the boots applied since the
  // daemon started, and what the last one that found a package did
  // ("applied", "resumed", "refused"; empty: none yet).
  std::uint64_t app_updates_total = 0;
  std::string last_app_update;
};

// The SIM card after sim-remove / sim-insert.
struct SimReport {
  // "absent", "pin_required", "puk_required", "blocked" (no PUK retries
  // left) or "ready".
  std::string state;
  bool changed = false;  // false: the slot was already as asked
  bool pin_enabled = false;
  int pin_retries = 0, puk_retries = 0;
};

// `ctl network`: the radio link and the coverage. Members left empty keep
// their value; `clear` first brings back a perfect link.
struct NetworkRequest {
  std::optional<std::uint64_t> latency_ms{};      // one way, each direction
  std::optional<std::uint64_t> bandwidth_kbps{};  // each direction; 0: no cap
  std::optional<double> udp_loss_percent{};       // each datagram, each direction, 0-100
  std::optional<bool> coverage{};                 // false: the network is gone (detach)
  bool clear = false;
};

// The link and the registration after a network request.
struct NetworkReport {
  std::uint64_t latency_ms = 0, bandwidth_kbps = 0;
  double udp_loss_percent = 0;
  bool coverage = true;
  bool registered = false;      // what +CEREG? says: coverage, radio on, SIM ready
  std::uint64_t loss_seed = 0;  // the losses drawn so far replay from it
};

// `ctl sms-deliver`: an SMS from the network. Exactly one of text / pdu.
struct SmsDeliverRequest {
  std::string from;                 // "+4917...", "0170..." or an alphanumeric sender
  std::optional<std::string> text;  // UTF-8, one message (160 GSM / 70 UCS2 characters)
  std::optional<std::string> pdu;   // hex of an SMS-DELIVER TPDU (no SCA field)
};

// Where a delivered SMS went: stored (storage, index; +CMTI when AT+CNMI
// asks) or handed to the host directly (+CMT, not stored).
struct SmsDelivered {
  std::string storage;  // "SM", "ME"; empty when direct
  int index = -1;
  bool direct = false;
};

// An SMS the host sent (AT+CMGS, AT+CMSS): the SMS_SENT event and
// `ctl sms-outbox`. Texts are UTF-8; 8-bit data is only in `pdu`.
struct SmsRecord {
  std::string to;
  int mr = 0;
  std::string text;               // gsm7 / ucs2 user data; empty for 8-bit data
  std::string alphabet;           // "gsm7", "8bit", "ucs2"
  std::string pdu;                // the PDU as the module sends it, hex (SCA field first)
  std::int64_t timestamp_us = 0;  // since the epoch, host clock
};

// `ctl gnss`: where the module is and whether it sees the sky. Members left
// empty keep their value.
struct GnssRequest {
  std::optional<double> latitude{}, longitude{}, altitude_m{};  // degrees, metres
  std::optional<bool> signal{};
};

struct GnssReport {
  bool session = false;  // AT+QGPS=1 runs
  bool fixed = false;    // AT+QGPSLOC would answer now
  bool signal = true;
  double latitude = 0, longitude = 0, altitude_m = 0;
};

// A power cut done now, or armed as a fault rule.
struct PowerCutOutcome {
  bool armed = false;  // false: the power was cut now
  std::uint64_t rule = 0;
  std::uint64_t operation = 0;  // the rule's operation count
  nand::CutMode mode = nand::CutMode::torn_random;
  std::optional<std::uint64_t> seed;  // random_window: the seed the operation was drawn from
};

// What an inject did: armed a rule, changed a file, or damaged the NAND.
struct RuleArmed {
  std::uint64_t rule = 0;
};
struct FileCorrupted {
  std::string path;
  std::uint32_t bits = 0;
};
struct NandDamaged {
  std::uint32_t block = 0, page = 0;  // physical
};
using InjectOutcome = std::variant<RuleArmed, FileCorrupted, NandDamaged>;

// The NAND statistics (vmodem image stats --json) and each mounted file
// system's usage.
struct ModuleStats {
  nand::DeviceStats nand;
  std::vector<std::pair<std::string, fs::StatFs>> file_systems;  // by profile name
};

struct SnapshotDone {
  std::string path;
  std::optional<std::uint64_t> bytes;  // snapshot-save: the file's size
};

// `ctl crc32` / `ctl checksum-update`: a file of the user file system and
// its CRC-32 (QuecPython's file_crc32.calc), and for an update whether its
// entry in /usr/checksum.json changed.
struct FileChecksum {
  std::string path;  // "/usr/main.py"
  std::uint32_t crc32 = 0;
  bool updated = false;
};

// `ctl app-fota`: an application package staged in /usr for the next boot.
struct AppFotaStaged {
  std::string path;  // the host file it came from
  std::uint64_t bytes = 0;
  std::uint32_t added = 0, changed = 0, removed = 0;
};

// How the user's boot script ended (EC2x QuecOpen, `run --boot-script`).
struct BootScriptRun {
  int exit_code = -1;  // -1: it did not exit (killed at the timeout)
  bool timed_out = false;
  std::uint64_t ms = 0;
};

// `ctl app-sync`: what the EC2x QuecOpen application sync did (seed 001):
// the direction ("in_step", "to_backup", "to_system", "unparsable_tag"),
// the versions it compared (-1: no tag) and what it copied — or, on a
// module running the user's boot script, outcome "script" and how it ended.
struct AppSyncDone {
  std::string outcome;
  std::int64_t system_version = -1;
  std::int64_t backup_version = -1;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::optional<BootScriptRun> script;
};

// `ctl fastboot-erase`: the partition, its good blocks erased, the blocks
// whose erase failed (marked bad), and whether the module was on (it was
// powered off in order first; it stays off).
struct FastbootErased {
  std::string partition;
  std::uint32_t erased_blocks = 0;
  std::uint32_t failed_blocks = 0;
  bool was_on = false;
};

struct BackupReport {
  std::string file_system;  // the profile's name for it
  fs::BackupInfo info;
};

// Receives the result of a request that may finish later. Called exactly
// once, on the module's executor (possibly before the call that took it
// returns).
using SnapshotReply = std::function<void(Controlled<SnapshotDone>)>;
using AppSyncReply = std::function<void(Controlled<AppSyncDone>)>;

// Where a power cut strikes.
struct PowerCutRequest {
  enum class When { now, after_operations, partition_operation, random_window };
  When when = When::now;
  std::uint64_t operations = 0;         // after_operations: the Nth NAND operation from now
  std::string partition{};              // partition_operation: Nth matching op in this partition
  std::uint8_t op_kinds = 0b111;        // bit (1 << nand::OpKind); for partition_operation
  std::uint64_t window_first = 1;       // random_window: operation in [first, last] from now,
  std::uint64_t window_last = 1000;     //   drawn from `seed`
  std::optional<std::uint64_t> seed{};  // random_window: default derived from the run seed
  nand::CutMode mode = nand::CutMode::torn_random;
};

// Damage injected into the flash or a file system.
struct InjectRequest {
  enum class Kind {
    bit_flips,
    uncorrectable,
    unstable,
    bad_block,
    erase_partition,
    corrupt_file,
    rule
  };
  Kind kind = Kind::bit_flips;
  std::string partition;    // all but corrupt_file and rule
  std::uint32_t block = 0;  // logical block in the partition
  std::uint32_t page = 0;
  std::uint32_t bits = 1;  // bit_flips
  std::optional<std::uint32_t> sector;
  std::string file_system;  // corrupt_file: "modem" or "ap"
  std::string path;         // corrupt_file
  nand::FaultRule rule;     // rule: a general fault rule (see nand/fault.hpp)
};

class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  virtual Controlled<ModuleStatus> status() = 0;
  virtual Controlled<PowerState> power_on() = 0;   // DeviceBusy if not off
  virtual Controlled<PowerState> power_off() = 0;  // orderly, like AT+QPOWD=1
  virtual Controlled<PowerCutOutcome> power_cut(const PowerCutRequest& request) = 0;
  virtual Controlled<PowerState> reset() = 0;  // like AT+CFUN=1,1
  virtual Controlled<InjectOutcome> inject(const InjectRequest& request) = 0;
  // The fault rules armed now (power-cut's and inject's), oldest first. A
  // rule that fired its last time is gone; a count-down power cut goes with
  // the power-on it was armed in.
  virtual Controlled<std::vector<nand::ArmedRule>> faults() = 0;
  // Removes rule `id`, or every rule (nullopt); returns the ids removed.
  // Errors: InvalidParameter (no rule with that id is armed).
  virtual Controlled<std::vector<std::uint32_t>> disarm(std::optional<std::uint32_t> id) = 0;
  virtual Controlled<ModuleStats> stats() = 0;
  // The whole NAND to an image file at `path`, and back (module off). The
  // file I/O runs off the executor, so the ports and other connections keep
  // being served meanwhile; `done` gets the path (and for a save, its size)
  // or the error: InvalidParameter for a path that is refused (the live
  // image, anything but a regular file or a free name, a NUL byte; for load,
  // a file that is not an image of this module's geometry), GenericError
  // when the disk fails or fills, DeviceBusy for a load while the module is
  // on.
  virtual void snapshot_save(const std::string& path, SnapshotReply done) = 0;
  virtual void snapshot_load(const std::string& path, SnapshotReply done) = 0;
  // The backup record of `file_system` (a name, alias or partition; empty:
  // the AP file system's).
  virtual Controlled<BackupReport> backup_info(const std::string& file_system) = 0;
  // QuecPython (family quecpython): the CRC-32 of a file in /usr, named
  // "/usr/<path>" (file_crc32.calc), and the application's "I changed it on
  // purpose": its entry in /usr/checksum.json set to that CRC (temporary
  // file + rename), so the next boot keeps the edit. Errors:
  // InvalidParameter (not under /usr, no such file, not listed in
  // checksum.json, or a module of another family), DeviceNotActive (off or
  // still booting), GenericError (the file system failed).
  virtual Controlled<FileChecksum> file_crc32(const std::string& path) = 0;
  virtual Controlled<FileChecksum> checksum_update(const std::string& path) = 0;
  // QuecPython: stages the application package at host `path` (absolute) in
  // /usr; the next boot applies it (quecpython/app_update.hpp). Nothing is
  // written unless the package is whole, for this module (its profile), and
  // every file it changes is in /usr as the package expects. Errors:
  // InvalidParameter (unreadable, not an application package, damaged, for
  // another module or other files, or a module of another family),
  // DeviceNotActive (off or booting), GenericError (the file system failed,
  // e.g. full).
  virtual Controlled<AppFotaStaged> app_fota(const std::string& path) = 0;
  // EC2x QuecOpen (family ec2x-quecopen): runs the application sync on the
  // running module now, as running the backup script by hand does — the
  // boot's own sync (event APP_SYNC), or the user's boot script when the
  // module has one (event BOOT_SCRIPT; `done` once it has ended). Errors:
  // InvalidParameter (a module of another family), DeviceNotActive (off or
  // still booting), DeviceBusy (a script is running), GenericError (a file
  // system failed, the script could not start; a power cut takes the module
  // down as any other does).
  virtual void app_sync(AppSyncReply done) = 0;
  // `fastboot erase PARTITION` (seed 001 test method 3): the module, if on,
  // is powered off in order (it reboots into the boot loader), every good
  // block of the partition is erased (a failing one marked bad, as a flasher
  // does) and it stays off until power-on. Errors: InvalidParameter (no
  // such partition), GenericError (the flash failed otherwise).
  virtual Controlled<FastbootErased> fastboot_erase(const std::string& partition) = 0;
  // The SIM card leaves or enters the slot, with the URCs a module sends
  // (+CPIN: NOT READY, ...) and registration lost or regained while it is
  // on; while it is off, the next boot finds the slot so. `fresh`: a new
  // card as the profile issues it (lock, PIN, retries reset).
  virtual Controlled<SimReport> sim_remove() = 0;
  virtual Controlled<SimReport> sim_insert(bool fresh) = 0;
  // The radio link from now on for every socket (latency, a bandwidth cap,
  // UDP loss drawn from the module's seed) and the coverage: losing it is a
  // detach (registration lost with its URCs, PDP contexts down with
  // +QIURC: "pdpdeact"), regaining it registers again (contexts stay down
  // until the host activates them). Kept across resets until the process
  // ends. Errors: InvalidParameter (loss outside 0-100).
  virtual Controlled<NetworkReport> network(const NetworkRequest& request) = 0;
  // The GNSS receiver's world: its position (latitude and longitude
  // together) and the sky (signal false: sessions never fix). Kept across
  // boots. Errors: InvalidParameter (out of range, one coordinate alone).
  virtual Controlled<GnssReport> gnss(const GnssRequest& request) = 0;
  // An SMS arrives from the network (see SmsDeliverRequest / SmsDelivered).
  // Errors: InvalidParameter (bad number, text, PDU, or <mem3> full),
  // DeviceNotActive (module off or its SIM not ready).
  virtual Controlled<SmsDelivered> sms_deliver(const SmsDeliverRequest& request) = 0;
  // The SMS the host sent since the process started (or the last clear).
  virtual Controlled<std::vector<SmsRecord>> sms_outbox(bool clear) = 0;
  // Events: {"event":"POWER_STATE"|"URC"|"RESTORE"|"NAND_FAULT"|..., "data":{...},
  // "timestamp":{"seconds":..,"microseconds":..}}, already in their wire
  // form (the module's own parts listen to typed signals instead). Returns
  // an id for unsubscribe.
  virtual std::uint64_t subscribe(std::function<void(const nlohmann::json& event)> listener) = 0;
  virtual void unsubscribe(std::uint64_t id) = 0;
};

}  // namespace vmodem::sim
