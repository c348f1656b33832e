// Module profiles: everything that makes a simulated BG95-M3 differ from a
// BG77 or a UC20 — identity strings, the NAND part and its physics, the
// partition table. Profiles are JSON files in configs/ (built into the
// binary) or any file the user names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/chip_config.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/stats.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::sim {

// A profile that could not be used, with where and why: "configs/x.json:
// nand.block_count: expected a positive integer, got \"many\"".
struct ProfileError {
  std::string source;  // file path or "builtin:<name>"
  std::string field;   // JSON path, e.g. "partitions[3].blocks"; empty for the whole file
  std::string message;
  std::string describe() const;
};

struct Identity {
  std::string manufacturer, model, revision, subedition, imei, imsi, iccid;
};

// Boot sequence timings (real-time pacing; fast mode divides them).
struct BootUrc {
  std::string text;
  std::uint32_t after_ms = 0;  // after RDY
};
struct BootConfig {
  std::uint32_t rdy_after_ms = 2800;      // power-on to RDY
  std::uint32_t app_rdy_after_ms = 1500;  // RDY to APP RDY
  bool app_rdy = true;                    // older firmware never prints APP RDY
  std::vector<BootUrc> urcs_after_rdy;
  std::uint32_t reset_shutdown_ms = 400;   // AT+CFUN=1,1: OK to the ports vanishing
  std::uint32_t power_down_ms = 300;       // AT+QPOWD=1: OK to POWERED DOWN
  std::uint32_t fast_mode_divisor = 1000;  // fast mode: every delay divided by this
};

// File-system backup (AT+QPRTPARA, SPEC §4): the optional "backup" section.
// Limits of the module's file systems (both use the same firmware limits).
struct FsLimits {
  std::uint32_t max_name = 64;               // bytes per path component
  std::uint64_t max_file_size = 4u << 20;    // bytes
  std::uint32_t max_open_files = 32;         // handles open at once
  std::uint32_t max_depth = 16;              // path components
  std::uint32_t reserve_blocks = 2;          // erased blocks kept for GC and bad-block retirement
  std::uint32_t max_bad_block_percent = 20;  // beyond this, probe 9 fails the mount
};

// Where the factory files of each file system come from at manufacture: a
// host directory tree, or (empty) content generated from the manufacture
// seed. Relative paths are resolved against the profile file's directory.
struct FactoryConfig {
  std::string modem_fs_dir;
  std::string ap_fs_dir;
};

// Where the factory firmware comes from (the optional "firmware" section): a
// bundle manifest (fota/bundle.hpp; images named like the profile's firmware
// partitions), or (empty) small synthetic images generated from the
// manufacture seed, versioned identity.revision. A relative path is resolved
// against the profile file's directory.
struct FirmwareConfig {
  std::string manifest;
};

// AT+QFOTADL downloads (profile section "fota"). Besides the guide's 90 s
// without a byte, a download that has not finished after the deadline ends
// as a timeout, so a server trickling bytes cannot hold the module forever.
// The default leaves a 10 MiB package about 47 kbit/s.
struct FotaConfig {
  std::uint32_t download_deadline_s = 1800;
  // QuecPython's application update keeps its journal in /usr (the default).
  // false is the unsafe reference: a cut between the files and
  // checksum.json lets the checksum guardian restore the old files over the
  // update (quecpython/app_update.hpp). For tests and demonstrations only.
  bool app_journal = true;
};

struct BackupConfig {
  // What a power cut during AT+QPRTPARA=1/11 leaves behind: "real" (as the
  // module: the backup may be left invalid, backup_valid 0) or "safe" (the
  // previous backup stays valid until the new one is complete).
  bool safe_power_loss = false;
  // AT+QPRTPARA=4 prints 15 fields as real modules do (the document lists
  // 14 but its own example has 15); 14 for hosts written to the letter.
  std::uint32_t qprtpara4_fields = 15;
};

// EC2x QuecOpen's application sync (section "app_sync"; family
// ec2x-quecopen, seed 001): where the application tree and its version tag
// are on the system side and where their backup is, as the module's Linux
// sees the paths (each file system's linux_mount says where it is mounted).
struct AppSyncConfig {
  std::string apps = "/usrapp/apprun/apps";
  std::string tag = "/usrapp/apprun/app_ver.txt";
  std::string backup_apps = "/usrdata/appbackup/apps";
  std::string backup_tag = "/usrdata/appbackup/app_ver.txt";
  // "tag_write": "reference" (the seed's: cp the tag, sync) or "atomic" (a
  // synced temporary file renamed over the tag).
  bool atomic_tag = false;
  // The page cache's flusher writes a dirty file back after a call with
  // probability 1 / this (0: only sync writes back).
  std::uint32_t flusher_one_in = 3;
  // The user's own script (a host file, /bin/sh) run instead of the
  // built-in sync at every boot and by `ctl app-sync`, against the module's
  // partitions (quecopen/boot_script.hpp); `vmodem run --boot-script`
  // sets it. Empty: the built-in sync.
  std::string boot_script;
  // A script still running this long is killed (the boot goes on).
  std::uint32_t boot_script_timeout_ms = 60'000;
};

// The SIM card in the module's slot (profile section "sim", optional). Its
// The GNSS receiver's world: where the module is (until `ctl gnss` moves
// it) and how long a session takes to its first fix.
struct GnssConfig {
  double latitude = 31.16480, longitude = 121.38580;  // degrees, WGS 84
  double altitude_m = 10.0;
  std::uint32_t ttff_ms = 30000;  // fast mode divides it like the boot's delays
  std::uint32_t satellites = 9;
};

// ICCID and IMSI are identity.iccid and identity.imsi. What the host changes
// (the lock, a new PIN, the retries left) is kept in the module's NV
// (module/nv_settings.hpp, key "sim"); these are the card as it was issued.
struct SimConfig {
  std::string pin = "1234";      // 4-8 digits
  std::string puk = "12345678";  // 8 digits
  bool pin_enabled = false;      // the PIN lock (AT+CLCK="SC"); off: the SIM is ready at boot
  std::string msisdn;            // AT+CNUM's number; "" none
  std::string smsc;              // the card's SMS service centre (AT+CSCA until set); "" default
};

// The simulated network the module is registered on.
struct NetworkConfig {
  std::string operator_long, operator_short, mcc_mnc;
  std::uint32_t act = 8;  // 27.007 AcT: 8 = E-UTRAN (LTE-M), 9 = NB-IoT, 2 = UTRAN
  std::uint32_t rssi = 24, ber = 99;
  std::string tac, cell_id, apn;
  bool roaming = false;  // registered on a visited network (+CREG stat 5, +CIND "roam")
};

// What a partition is for; lets the layers above find "the modem FS" without
// knowing each profile's partition names.
enum class PartitionRole {
  none,
  boot,
  firmware,
  modem_fs,
  modem_fs_backup,
  modem_fs_backup_info,
  ap_fs,
  ap_fs_backup,
  ap_fs_backup_info,
  fota,
};
std::string_view to_string(PartitionRole role);

// The product family: which firmware the module runs, and so which boot-time
// guardians check its file systems (module/guardians.hpp). Profile field
// "family"; absent means bg95.
enum class Family {
  bg95,           // BG95 / BG77 / BG600L: partition backup with AT+QPRTPARA (seed 000)
  uc20,           // UC20: DFOTA, no partition backup (seed 004)
  ec2x_quecopen,  // EC2x QuecOpen: application backup system <-> usr_data (seed 001; not yet)
  quecpython,     // QuecPython: per-file restore from /bak with checksum.json (seed 002)
};
std::string_view to_string(Family family);

// What a file system is to the firmware.
enum class FsRole {
  modem,  // RF calibration and NV settings; mounted before RDY (exactly one)
  ap,     // the application side's file system; mounted before APP RDY (exactly one)
  data,   // any further file system; mounted before APP RDY, after the AP one
};
std::string_view to_string(FsRole role);

// One file system of the module: profile section "file_systems", or, when a
// profile has none, derived from its partition roles (modem_fs, ap_fs and
// their backup partitions) as profiles written before the section did. The
// modem and AP file systems live in the partitions with roles modem_fs and
// ap_fs either way.
struct FileSystemSpec {
  std::string name;       // "modem", "ap", ...: logs, events, `ctl backup-info`, image tools
  std::string partition;  // the partition it lives in
  FsRole role = FsRole::data;
  // Its partition backup (AT+QPRTPARA, SPEC §4): data and info partitions,
  // both or neither. Only families with the partition-backup guardian.
  std::string backup_data, backup_info;
  bool ufs = false;         // what AT+QFLST, AT+QFUPL, ... call UFS (exactly one has it)
  std::string mount_name;   // `vmodem run --mount DIR` serves it at DIR/<mount_name>; "" never
  std::string alias;        // one more name the image tools accept ("" none)
  std::string factory_dir;  // factory files from this host tree; "" generated (modem, ap) or none
  // Without factory_dir: the generated modem / AP content; false: empty
  // (a QuecPython /usr holds the application, not BG95 AP defaults).
  bool generated_factory = true;
  // Read-only to the user (QuecPython's /bak): mounted read-only at every
  // boot, so AT (+CME ERROR: 414), FUSE (EROFS) and the image tools (refused
  // before the image is opened for writing) cannot change it. Only
  // manufacture writes it.
  bool read_only = false;
  // QuecPython's backup file system: manufacture adds the generated
  // checksum.json (the CRC-32 of every factory file) and backup_restore.json
  // (`restore_enabled`) to its factory files, when it has any
  // (quecpython/manifests.hpp).
  bool app_backup = false;
  bool restore_enabled = true;
  // "": the file system is on the raw partition (ThreadX modules). Else the
  // partition is a UBI device and the file system lives in its volume of
  // this name (Linux modules: EC2x `system` holds "rootfs"); the boot
  // attaches UBI first and, like the kernel's find_partitions, formats a
  // partition whose UBI or volume is unusable.
  std::string ubi_volume;
  // Where the module's Linux mounts it ("/" for system, "/usrdata"); ""
  // for modules without Linux. Linux paths in the profile resolve by it.
  std::string linux_mount;
  bool has_backup() const { return !backup_data.empty(); }
};

struct PartitionEntry {
  nand::PartitionSpec spec;
  PartitionRole role = PartitionRole::none;
  std::string description;
};

struct Profile {
  std::string name;    // e.g. "bg95-m3"
  std::string source;  // where it was loaded from
  std::string description;
  Family family = Family::bg95;
  Identity identity;
  BootConfig boot;
  BackupConfig backup;
  AppSyncConfig app_sync;
  FactoryConfig factory;
  FirmwareConfig firmware;
  FotaConfig fota;
  FsLimits fs;
  NetworkConfig network;
  SimConfig sim;
  GnssConfig gnss;
  std::string nand_part_number;
  nand::Geometry geometry;
  nand::ChipConfig chip;  // seed left at its default; the run's seed goes there
  nand::FactoryBadBlocks factory_bad;
  std::uint32_t deviation_slots = 4096;
  std::vector<PartitionEntry> partitions;
  // In boot order: the modem one first, then the AP one, then the others.
  std::vector<FileSystemSpec> file_systems;
  nlohmann::json document;  // the whole JSON, for sections other layers read

  nand::PartitionTable partition_table() const;  // validated at load time
  const PartitionEntry* find_role(PartitionRole role) const;
  const PartitionEntry* find(std::string_view partition_name) const;
  // The file system named `wanted`, or whose alias or partition is `wanted`.
  const FileSystemSpec* file_system(std::string_view wanted) const;
  // The one with `role` (modem, ap: always present; data: the first).
  const FileSystemSpec* file_system(FsRole role) const;
  const FileSystemSpec& ufs() const;  // validated at load time
};

// The path inside a file system mounted at `mount` (a linux_mount: "/" or
// an absolute directory) of the absolute Linux path `path`: "/" for the
// mount point itself; nullopt when `path` is not at or under `mount`.
std::optional<std::string> path_under_mount(std::string_view mount, std::string_view path);

// Where an absolute path of the module's Linux lives (Linux-based modules,
// EC2x QuecOpen): the file system whose linux_mount is the longest prefix of
// `path` and the path inside it. fs null when none holds it (a profile
// without Linux mounts).
struct LinuxFile {
  const FileSystemSpec* fs = nullptr;
  std::string inner;
};
LinuxFile resolve_linux_path(const Profile& profile, std::string_view path);

// Names of the profiles built into the binary (configs/*.json).
std::vector<std::string> builtin_profile_names();

// Loads `name_or_path`: a builtin profile name ("bg95-m3", in any case: the
// model "BG95-M3" works too), or a path to a
// JSON file (anything containing '/' or ending in ".json"). Every field is
// checked: unknown, missing or mistyped fields, impossible geometry, a
// partition table that overlaps or leaves the chip.
tl::expected<Profile, ProfileError> load_profile(const std::string& name_or_path);
// Parses a profile from JSON text; `source` names it in errors.
tl::expected<Profile, ProfileError> parse_profile(const std::string& text,
                                                  const std::string& source);

// The form in which an image keeps the profile it was made for (the NAND
// image's attachment): the profile's JSON and where it was loaded from, so
// relative paths in it (factory directories, a firmware manifest) resolve
// against that file's directory as they did when the image was made.
std::string stored_profile(const Profile& profile);
// The profile an image keeps; `image` names the image in errors.
tl::expected<Profile, ProfileError> load_stored_profile(const std::string& stored,
                                                        const std::string& image);
// Why an image made for `made_for` cannot be run as `other`, for a user:
// the first difference in chip geometry, damage-record store or partition
// table. nullopt when `other` lays out the NAND exactly as `made_for` did (it
// may differ in identity, timings and everything else).
std::optional<std::string> layout_difference(const Profile& made_for, const Profile& other);

inline constexpr const char* kDefaultProfile = "bg95-m3";

}  // namespace vmodem::sim
