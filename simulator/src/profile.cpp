#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <vmodem/fota/fota_area.hpp>
#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/simulator/profile.hpp>

#include "builtin_profiles.hpp"
#include "json_reader.hpp"
#include "module/fs_config.hpp"
#include "profile/file_systems.hpp"

namespace vmodem::sim {

namespace {

// Sections owned by other layers (the AT engine): passed through here and
// validated by the code that reads them.
constexpr std::string_view kOtherSections[] = {"at"};

struct RoleName {
  PartitionRole role;
  const char* name;
};
constexpr RoleName kRoles[] = {
    {PartitionRole::none, "none"},
    {PartitionRole::boot, "boot"},
    {PartitionRole::firmware, "firmware"},
    {PartitionRole::modem_fs, "modem_fs"},
    {PartitionRole::modem_fs_backup, "modem_fs_backup"},
    {PartitionRole::modem_fs_backup_info, "modem_fs_backup_info"},
    {PartitionRole::ap_fs, "ap_fs"},
    {PartitionRole::ap_fs_backup, "ap_fs_backup"},
    {PartitionRole::ap_fs_backup_info, "ap_fs_backup_info"},
    {PartitionRole::fota, "fota"},
};

std::optional<PartitionRole> role_from(const std::string& name) {
  for (const auto& r : kRoles) {
    if (name == r.name) return r.role;
  }
  return std::nullopt;
}

bool all_digits(const std::string& text, std::size_t min, std::size_t max) {
  return text.size() >= min && text.size() <= max &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

void read_identity(JsonReader& in, Identity& id) {
  id.manufacturer = in.string("manufacturer");
  id.model = in.string("model");
  id.revision = in.string("revision");
  id.subedition = in.string("subedition");
  id.imei = in.string("imei");
  id.imsi = in.string("imsi");
  id.iccid = in.string("iccid");
  if (in.ok() &&
      (id.imei.size() != 15 || id.imei.find_first_not_of("0123456789") != std::string::npos)) {
    in.fail("imei", "expected 15 digits");
  }
  // The SIM's files hold them as BCD digits (AT+CRSM): digits only.
  if (in.ok() && !all_digits(id.imsi, 6, 15)) in.fail("imsi", "expected 6 to 15 digits");
  if (in.ok() && !all_digits(id.iccid, 10, 20)) in.fail("iccid", "expected 10 to 20 digits");
  in.finish();
}

void read_boot(JsonReader& in, BootConfig& boot) {
  boot.rdy_after_ms = static_cast<std::uint32_t>(in.integer("rdy_after_ms", 0, 600000));
  boot.app_rdy_after_ms = static_cast<std::uint32_t>(in.integer("app_rdy_after_ms", 0, 600000));
  boot.app_rdy = in.boolean("app_rdy", true);
  if (in.has("urcs_after_rdy")) {
    for (auto& item : in.array("urcs_after_rdy")) {
      BootUrc urc;
      urc.text = item.string("text");
      urc.after_ms = static_cast<std::uint32_t>(item.integer("after_ms", 0, 600000));
      if (item.ok() && (urc.text.empty() || urc.text.find_first_of("\r\n") != std::string::npos)) {
        item.fail("text", "expected one non-empty line");
      }
      item.finish();
      in.absorb(item);
      boot.urcs_after_rdy.push_back(std::move(urc));
    }
  }
  boot.reset_shutdown_ms =
      static_cast<std::uint32_t>(in.integer("reset_shutdown_ms", 0, 60000, 400));
  boot.power_down_ms = static_cast<std::uint32_t>(in.integer("power_down_ms", 0, 60000, 300));
  boot.fast_mode_divisor =
      static_cast<std::uint32_t>(in.integer("fast_mode_divisor", 1, 1000000, 1000));
  in.finish();
}

void read_fs(JsonReader& in, FsLimits& fs) {
  fs.max_name = static_cast<std::uint32_t>(in.integer("max_name", 8, 255, fs.max_name));
  fs.max_file_size = in.integer("max_file_size", 1, std::uint64_t{1} << 32, fs.max_file_size);
  fs.max_open_files =
      static_cast<std::uint32_t>(in.integer("max_open_files", 1, 1024, fs.max_open_files));
  fs.max_depth = static_cast<std::uint32_t>(in.integer("max_depth", 1, 64, fs.max_depth));
  fs.reserve_blocks =
      static_cast<std::uint32_t>(in.integer("reserve_blocks", 1, 64, fs.reserve_blocks));
  fs.max_bad_block_percent = static_cast<std::uint32_t>(
      in.integer("max_bad_block_percent", 0, 100, fs.max_bad_block_percent));
  in.finish();
}

// `base` is the profile file's directory ("" for built-in profiles).
void read_factory(JsonReader& in, FactoryConfig& factory, const std::filesystem::path& base) {
  factory.modem_fs_dir = read_factory_dir(in, "modem_fs", base);
  factory.ap_fs_dir = read_factory_dir(in, "ap_fs", base);
  in.finish();
}

void read_firmware(JsonReader& in, FirmwareConfig& firmware, const std::filesystem::path& base) {
  const std::string manifest = in.string("manifest", "");
  if (!manifest.empty() && in.ok()) {
    const std::filesystem::path resolved = std::filesystem::path(manifest).is_absolute()
                                               ? std::filesystem::path(manifest)
                                               : base / manifest;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(resolved, ec)) {
      in.fail("manifest",
              "expected a firmware manifest file, but " + resolved.string() + " is not one");
    } else {
      firmware.manifest = resolved.string();
    }
  }
  in.finish();
}

void read_fota(JsonReader& in, FotaConfig& fota) {
  fota.download_deadline_s = static_cast<std::uint32_t>(
      in.integer("download_deadline_s", 1, 86400, fota.download_deadline_s));
  fota.app_journal = in.boolean("app_journal", fota.app_journal);
  in.finish();
}

void read_backup(JsonReader& in, BackupConfig& backup) {
  const std::string mode = in.string("power_loss_mode", "real");
  if (in.ok() && mode != "real" && mode != "safe")
    in.fail("power_loss_mode", "expected \"real\" or \"safe\"");
  backup.safe_power_loss = mode == "safe";
  backup.qprtpara4_fields = static_cast<std::uint32_t>(in.integer("qprtpara4_fields", 14, 15, 15));
  in.finish();
}

void read_app_sync(JsonReader& in, AppSyncConfig& sync) {
  for (auto [key, field] :
       {std::pair{"apps", &sync.apps}, std::pair{"tag", &sync.tag},
        std::pair{"backup_apps", &sync.backup_apps}, std::pair{"backup_tag", &sync.backup_tag}}) {
    *field = in.string(key, *field);
    if (in.ok() && (field->empty() || field->front() != '/'))
      in.fail(key, "expected an absolute path of the module's Linux");
  }
  const std::string tag_write = in.string("tag_write", "reference");
  if (in.ok() && tag_write != "reference" && tag_write != "atomic")
    in.fail("tag_write", "expected \"reference\" or \"atomic\"");
  sync.atomic_tag = tag_write == "atomic";
  sync.flusher_one_in =
      static_cast<std::uint32_t>(in.integer("flusher_one_in", 0, 1000, sync.flusher_one_in));
  sync.boot_script = in.string("boot_script", sync.boot_script);
  sync.boot_script_timeout_ms = static_cast<std::uint32_t>(
      in.integer("boot_script_timeout_ms", 100, 3'600'000, sync.boot_script_timeout_ms));
  in.finish();
}

void read_network(JsonReader& in, NetworkConfig& net) {
  net.operator_long = in.string("operator_long");
  net.operator_short = in.string("operator_short");
  net.mcc_mnc = in.string("mcc_mnc");
  if (in.ok() && (net.mcc_mnc.size() < 5 || net.mcc_mnc.size() > 6 ||
                  net.mcc_mnc.find_first_not_of("0123456789") != std::string::npos)) {
    in.fail("mcc_mnc", "expected 5 or 6 digits");
  }
  net.act = static_cast<std::uint32_t>(in.integer("act", 0, 14));
  net.rssi = static_cast<std::uint32_t>(in.integer("rssi", 0, 99));
  net.ber = static_cast<std::uint32_t>(in.integer("ber", 0, 99));
  net.tac = in.string("tac");
  net.cell_id = in.string("cell_id");
  net.apn = in.string("apn", "");
  net.roaming = in.boolean("roaming", false);
  in.finish();
}

void read_gnss(JsonReader& in, GnssConfig& gnss) {
  gnss.latitude = in.number("latitude", -90.0, 90.0, gnss.latitude);
  gnss.longitude = in.number("longitude", -180.0, 180.0, gnss.longitude);
  gnss.altitude_m = in.number("altitude_m", -500.0, 20000.0, gnss.altitude_m);
  gnss.ttff_ms = static_cast<std::uint32_t>(in.integer("ttff_ms", 0, 3600000, gnss.ttff_ms));
  gnss.satellites = static_cast<std::uint32_t>(in.integer("satellites", 0, 64, gnss.satellites));
  in.finish();
}

void read_sim(JsonReader& in, SimConfig& sim) {
  sim.pin = in.string("pin", sim.pin);
  if (in.ok() && !all_digits(sim.pin, 4, 8)) in.fail("pin", "expected 4 to 8 digits");
  sim.puk = in.string("puk", sim.puk);
  if (in.ok() && !all_digits(sim.puk, 8, 8)) in.fail("puk", "expected 8 digits");
  sim.pin_enabled = in.boolean("pin_enabled", false);
  sim.msisdn = in.string("msisdn", "");
  if (in.ok() && !sim.msisdn.empty() &&
      !all_digits(sim.msisdn.starts_with('+') ? sim.msisdn.substr(1) : sim.msisdn, 1, 20)) {
    in.fail("msisdn", "expected up to 20 digits, optionally after a '+'");
  }
  sim.smsc = in.string("smsc", "");
  if (in.ok() && !sim.smsc.empty() &&
      !all_digits(sim.smsc.starts_with('+') ? sim.smsc.substr(1) : sim.smsc, 1, 20)) {
    in.fail("smsc", "expected up to 20 digits, optionally after a '+'");
  }
  in.finish();
}

void read_nand(JsonReader& in, Profile& p) {
  p.nand_part_number = in.string("part_number", "");
  nand::Geometry& g = p.geometry;
  g.page_size = static_cast<std::uint32_t>(in.integer("page_size", 512, nand::kMaxPageSize));
  if (in.ok() && g.page_size % 512 != 0) in.fail("page_size", "expected a multiple of 512");
  g.spare_size = static_cast<std::uint32_t>(in.integer("spare_size", 16, nand::kMaxSpareSize));
  g.pages_per_block = static_cast<std::uint32_t>(in.integer("pages_per_block", 2, 255));
  g.block_count = static_cast<std::uint32_t>(in.integer("block_count", 1, 1U << 20));
  g.nop = static_cast<std::uint32_t>(in.integer("nop", 1, 255));

  auto timing = in.object("timing");
  p.chip.timing.read_us = static_cast<std::uint32_t>(timing.integer("read_us", 0, 1000000));
  p.chip.timing.program_us = static_cast<std::uint32_t>(timing.integer("program_us", 0, 1000000));
  p.chip.timing.erase_us = static_cast<std::uint32_t>(timing.integer("erase_us", 0, 10000000));
  p.chip.timing.transfer_ns_per_byte =
      static_cast<std::uint32_t>(timing.integer("transfer_ns_per_byte", 0, 100000, 25));
  timing.finish();
  in.absorb(timing);

  auto ecc = in.object("ecc");
  p.chip.ecc.sector_size =
      static_cast<std::uint32_t>(ecc.integer("sector_size", 512, nand::kMaxPageSize));
  p.chip.ecc.strength_bits = static_cast<std::uint32_t>(ecc.integer("strength_bits", 1, 64));
  if (ecc.ok() && g.page_size % p.chip.ecc.sector_size != 0) {
    ecc.fail("sector_size",
             "expected a divisor of page_size (" + std::to_string(g.page_size) + ")");
  }
  ecc.finish();
  in.absorb(ecc);

  auto wear = in.object("wear", true);
  auto& w = p.chip.wear;
  w.endurance_cycles = static_cast<std::uint32_t>(
      wear.integer("endurance_cycles", 1, 100000000, w.endurance_cycles));
  w.fail_probability_at_endurance =
      wear.number("fail_probability_at_endurance", 0, 1, w.fail_probability_at_endurance);
  w.wear_bit_errors = wear.boolean("wear_bit_errors", w.wear_bit_errors);
  w.wear_bit_error_rate = wear.number("wear_bit_error_rate", 0, 1, w.wear_bit_error_rate);
  w.read_disturb = wear.boolean("read_disturb", w.read_disturb);
  w.read_disturb_threshold = static_cast<std::uint32_t>(
      wear.integer("read_disturb_threshold", 1, 1U << 31, w.read_disturb_threshold));
  w.read_disturb_rate = wear.number("read_disturb_rate", 0, 1, w.read_disturb_rate);
  wear.finish();
  in.absorb(wear);

  auto tear = in.object("tear", true);
  p.chip.tear.program_disturbs_earlier_pages =
      tear.boolean("program_disturbs_earlier_pages", false);
  p.chip.tear.disturb_max_bits =
      static_cast<std::uint32_t>(tear.integer("disturb_max_bits", 1, 64, 6));
  tear.finish();
  in.absorb(tear);

  auto bad = in.object("factory_bad_blocks", true);
  p.factory_bad.max_allowed = static_cast<std::uint32_t>(bad.integer("max", 0, g.block_count, 20));
  if (bad.has("list")) {
    for (auto b : bad.integer_array("list", 1, g.block_count - 1)) {
      p.factory_bad.blocks.push_back(static_cast<std::uint32_t>(b));
    }
  } else {
    p.factory_bad.count =
        static_cast<std::uint32_t>(bad.integer("count", 0, p.factory_bad.max_allowed, 0));
  }
  if (bad.ok() && p.factory_bad.blocks.size() > p.factory_bad.max_allowed) {
    bad.fail("list", "more blocks than max (" + std::to_string(p.factory_bad.max_allowed) + ")");
  }
  bad.finish();
  in.absorb(bad);
  p.deviation_slots = static_cast<std::uint32_t>(in.integer("deviation_slots", 64, 1U << 20, 4096));
  in.finish();
}

void read_partitions(JsonReader& root, Profile& p) {
  auto items = root.array("partitions");
  for (auto& item : items) {
    PartitionEntry entry;
    entry.spec.name = item.string("name");
    entry.spec.first_block =
        static_cast<std::uint32_t>(item.integer("first_block", 0, p.geometry.block_count - 1));
    entry.spec.block_count =
        static_cast<std::uint32_t>(item.integer("blocks", 1, p.geometry.block_count));
    const std::string role = item.string("role", "none");
    if (auto r = role_from(role)) {
      entry.role = *r;
    } else {
      item.fail("role",
                "expected one of boot, firmware, modem_fs, modem_fs_backup, "
                "modem_fs_backup_info, ap_fs, ap_fs_backup, ap_fs_backup_info, fota; got \"" +
                    role + "\"");
    }
    entry.description = item.string("description", "");
    item.finish();
    root.absorb(item);
    p.partitions.push_back(std::move(entry));
  }
  if (!root.ok()) return;
  std::vector<nand::PartitionSpec> specs;
  for (const auto& e : p.partitions)
    specs.push_back(e.spec);
  if (auto table = nand::PartitionTable::create(specs, p.geometry); !table) {
    root.fail("partitions", table.error().detail);
    return;
  }
  for (const auto& e : p.partitions) {
    if (e.role == PartitionRole::none || e.role == PartitionRole::firmware) continue;
    int count = 0;
    for (const auto& other : p.partitions)
      count += other.role == e.role;
    if (count > 1)
      root.fail("partitions", "more than one partition has role " + std::string(to_string(e.role)));
  }
}

// What the layer living in a partition of `role` finds wrong with it, asked of
// that layer (its own rule, not a copy here), or nullopt.
std::optional<nand::GeometryProblem> layer_problem(const Profile& p, const PartitionEntry& entry) {
  nand::Geometry g = p.geometry;
  g.block_count = entry.spec.block_count;
  for (const auto& fs : p.file_systems) {
    if (entry.spec.name == fs.partition) return fs::FileSystem::geometry_problem(g, fs_config(p));
    if (entry.spec.name == fs.backup_data)
      return fs::BackupEngine::data_geometry_problem(g, fs::BackupOptions{});
    if (entry.spec.name == fs.backup_info) return fs::BackupEngine::info_geometry_problem(g);
  }
  switch (entry.role) {
    case PartitionRole::modem_fs:
    case PartitionRole::ap_fs:
      return fs::FileSystem::geometry_problem(g, fs_config(p));
    case PartitionRole::modem_fs_backup:
    case PartitionRole::ap_fs_backup:
      return fs::BackupEngine::data_geometry_problem(g, fs::BackupOptions{});
    case PartitionRole::modem_fs_backup_info:
    case PartitionRole::ap_fs_backup_info:
      return fs::BackupEngine::info_geometry_problem(g);
    case PartitionRole::fota:
      return fota::FotaArea::geometry_problem(g);
    case PartitionRole::none:
    case PartitionRole::boot:
    case PartitionRole::firmware:
      break;
  }
  return std::nullopt;
}

// Every layer must fit the chip and the partition it gets: checked here, so
// a bad profile is refused when it is loaded rather than by a boot that never
// reaches RDY (or a buffer overrun in a layer that trusted it). The layer of
// a partition is what its role says, or what the file-system list uses it as.
void check_layers(JsonReader& root, const Profile& p) {
  for (std::size_t i = 0; i < p.partitions.size(); ++i) {
    const PartitionEntry& entry = p.partitions[i];
    const auto problem = layer_problem(p, entry);
    if (!problem) continue;
    std::string field = "partitions[" + std::to_string(i) + "].blocks";
    std::uint32_t got = entry.spec.block_count;
    if (problem->field == nand::GeometryProblem::Field::page_size) {
      field = "nand.page_size";
      got = p.geometry.page_size;
    } else if (problem->field == nand::GeometryProblem::Field::spare_size) {
      field = "nand.spare_size";
      got = p.geometry.spare_size;
    }
    root.fail(field, problem->message + "; got " + std::to_string(got) + " (partition '" +
                         entry.spec.name + "', role " + std::string(to_string(entry.role)) + ")");
    return;
  }
}

}  // namespace

std::string ProfileError::describe() const {
  std::string text = source;
  if (!field.empty()) text += ": " + field;
  return text + ": " + message;
}

std::string_view to_string(PartitionRole role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "none";
}

nand::PartitionTable Profile::partition_table() const {
  std::vector<nand::PartitionSpec> specs;
  for (const auto& e : partitions)
    specs.push_back(e.spec);
  return nand::PartitionTable::create(specs, geometry).value();
}

const PartitionEntry* Profile::find_role(PartitionRole role) const {
  for (const auto& e : partitions) {
    if (e.role == role) return &e;
  }
  return nullptr;
}

const PartitionEntry* Profile::find(std::string_view partition_name) const {
  for (const auto& e : partitions) {
    if (e.spec.name == partition_name) return &e;
  }
  return nullptr;
}

const FileSystemSpec* Profile::file_system(std::string_view wanted) const {
  for (const auto& spec : file_systems) {
    if (spec.name == wanted) return &spec;
  }
  for (const auto& spec : file_systems) {
    if ((!spec.alias.empty() && spec.alias == wanted) || spec.partition == wanted) return &spec;
  }
  return nullptr;
}

const FileSystemSpec* Profile::file_system(FsRole role) const {
  for (const auto& spec : file_systems) {
    if (spec.role == role) return &spec;
  }
  return nullptr;
}

const FileSystemSpec& Profile::ufs() const {
  for (const auto& spec : file_systems) {
    if (spec.ufs) return spec;
  }
  return *file_system(FsRole::ap);
}

std::optional<std::string> path_under_mount(std::string_view mount, std::string_view path) {
  if (mount.empty() || path.empty() || path.front() != '/') return std::nullopt;
  if (mount == "/") return std::string(path);
  if (path == mount) return std::string("/");
  if (path.starts_with(mount) && path.size() > mount.size() && path[mount.size()] == '/')
    return std::string(path.substr(mount.size()));
  return std::nullopt;
}

LinuxFile resolve_linux_path(const Profile& profile, std::string_view path) {
  LinuxFile best;
  std::size_t best_length = 0;
  for (const FileSystemSpec& spec : profile.file_systems) {
    auto inner = path_under_mount(spec.linux_mount, path);
    if (!inner || (best.fs && spec.linux_mount.size() <= best_length)) continue;
    best = {&spec, std::move(*inner)};
    best_length = spec.linux_mount.size();
  }
  return best;
}

tl::expected<Profile, ProfileError> parse_profile(const std::string& text,
                                                  const std::string& source) {
  // Configuration, not the data path: nlohmann reports the position of a
  // syntax error only through its exception, so catch it here.
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return tl::unexpected(ProfileError{source, "", std::string("not valid JSON: ") + e.what()});
  }
  Profile p;
  p.source = source;
  JsonReader root(document, "");
  if (root.string("schema") != "vmodem-profile/1" && root.ok()) {
    root.fail("schema", "expected \"vmodem-profile/1\"");
  }
  p.name = root.string("name");
  p.description = root.string("description", "");
  read_family(root, p);
  auto identity = root.object("identity");
  read_identity(identity, p.identity);
  root.absorb(identity);
  auto boot = root.object("boot");
  read_boot(boot, p.boot);
  root.absorb(boot);
  auto backup = root.object("backup", true);
  read_backup(backup, p.backup);
  root.absorb(backup);
  auto app_sync = root.object("app_sync", true);
  read_app_sync(app_sync, p.app_sync);
  root.absorb(app_sync);
  auto fs_section = root.object("fs", true);
  read_fs(fs_section, p.fs);
  root.absorb(fs_section);
  // Relative paths in a profile file are relative to the file.
  const std::filesystem::path base = source.starts_with("builtin:")
                                         ? std::filesystem::path()
                                         : std::filesystem::path(source).parent_path();
  auto factory = root.object("factory", true);
  read_factory(factory, p.factory, base);
  root.absorb(factory);
  auto firmware = root.object("firmware", true);
  read_firmware(firmware, p.firmware, base);
  root.absorb(firmware);
  auto fota_section = root.object("fota", true);
  read_fota(fota_section, p.fota);
  root.absorb(fota_section);
  auto network = root.object("network");
  read_network(network, p.network);
  root.absorb(network);
  auto sim = root.object("sim", true);
  read_sim(sim, p.sim);
  root.absorb(sim);
  auto gnss = root.object("gnss", true);
  read_gnss(gnss, p.gnss);
  root.absorb(gnss);
  auto nand_section = root.object("nand");
  read_nand(nand_section, p);
  root.absorb(nand_section);
  if (root.ok()) read_partitions(root, p);
  if (root.ok()) read_file_systems(root, p, base);
  if (root.ok()) check_layers(root, p);
  for (const auto& section : kOtherSections) {
    if (root.has(std::string(section))) (void)root.object(std::string(section));
  }
  root.finish();
  if (!root.ok())
    return tl::unexpected(ProfileError{source, root.error()->field, root.error()->message});
  p.document = std::move(document);
  return p;
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const auto& builtin : builtin_profiles())
    names.emplace_back(builtin.name);
  return names;
}

tl::expected<Profile, ProfileError> load_profile(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
  if (!is_path) {
    // "BG95-M3" is the model of "bg95-m3": names match in any case.
    std::string lower = name_or_path;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& builtin : builtin_profiles()) {
      if (builtin.name == lower)
        return parse_profile(std::string(builtin.json), "builtin:" + lower);
    }
    std::string known;
    for (const auto& n : builtin_profile_names())
      known += (known.empty() ? "" : ", ") + n;
    return tl::unexpected(
        ProfileError{name_or_path, "",
                     "no such profile; built in: " + known + " (or give a path to a JSON file)"});
  }
  std::ifstream in(name_or_path);
  if (!in) return tl::unexpected(ProfileError{name_or_path, "", "cannot open the file"});
  std::ostringstream text;
  text << in.rdbuf();
  return parse_profile(text.str(), name_or_path);
}

namespace {
constexpr const char* kStoredSchema = "vmodem-image-profile/1";
}  // namespace

std::string stored_profile(const Profile& profile) {
  return nlohmann::json{
      {"schema", kStoredSchema}, {"source", profile.source}, {"profile", profile.document}}
      .dump();
}

tl::expected<Profile, ProfileError> load_stored_profile(const std::string& stored,
                                                        const std::string& image) {
  const auto where = image + " (the profile the image keeps)";
  const auto document = nlohmann::json::parse(stored, nullptr, false);
  if (document.is_discarded() || !document.is_object() ||
      document.value("schema", "") != kStoredSchema || !document.contains("profile") ||
      !document["source"].is_string()) {
    return tl::unexpected(ProfileError{where, "", "not a stored profile this vmodem reads"});
  }
  auto profile = parse_profile(document["profile"].dump(), document["source"].get<std::string>());
  if (!profile) {
    auto error = profile.error();
    error.source = where + ", made from " + error.source;
    return tl::unexpected(error);
  }
  return profile;
}

std::optional<std::string> layout_difference(const Profile& made_for, const Profile& other) {
  if (!(made_for.geometry == other.geometry)) return "the NAND geometry differs";
  if (made_for.deviation_slots != other.deviation_slots) {
    return "nand.deviation_slots differs (" + std::to_string(made_for.deviation_slots) + " vs " +
           std::to_string(other.deviation_slots) + ")";
  }
  if (made_for.partitions.size() != other.partitions.size()) {
    return "the partition tables have " + std::to_string(made_for.partitions.size()) + " and " +
           std::to_string(other.partitions.size()) + " partitions";
  }
  for (std::size_t i = 0; i < made_for.partitions.size(); ++i) {
    const auto& a = made_for.partitions[i];
    const auto& b = other.partitions[i];
    if (a.spec.name != b.spec.name || a.spec.first_block != b.spec.first_block ||
        a.spec.block_count != b.spec.block_count || a.role != b.role) {
      return "partition " + std::to_string(i) + " is '" + a.spec.name + "' (" +
             std::string(to_string(a.role)) + ", blocks " + std::to_string(a.spec.first_block) +
             "+" + std::to_string(a.spec.block_count) + ") in the image, '" + b.spec.name + "' (" +
             std::string(to_string(b.role)) + ", blocks " + std::to_string(b.spec.first_block) +
             "+" + std::to_string(b.spec.block_count) + ") in the profile given";
    }
  }
  return std::nullopt;
}

}  // namespace vmodem::sim
