#include "profile/file_systems.hpp"

#include <algorithm>
#include <set>

#include <vmodem/nand/ubi/media.hpp>

namespace vmodem::sim {

namespace {

struct FamilyName {
  Family family;
  const char* name;
  bool available;  // this build has its guardians
};
constexpr FamilyName kFamilies[] = {
    {Family::bg95, "bg95", true},
    {Family::uc20, "uc20", true},
    {Family::ec2x_quecopen, "ec2x-quecopen", true},
    {Family::quecpython, "quecpython", true},
};

struct FsRoleName {
  FsRole role;
  const char* name;
};
constexpr FsRoleName kFsRoles[] = {
    {FsRole::modem, "modem"},
    {FsRole::ap, "ap"},
    {FsRole::data, "data"},
};

// Names that become directory names (FUSE mounts) and command-line words.
bool plain_name(const std::string& name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void read_backup_pair(JsonReader& item, FileSystemSpec& spec) {
  if (!item.has("backup")) return;
  auto backup = item.object("backup");
  spec.backup_data = backup.string("data");
  spec.backup_info = backup.string("info");
  backup.finish();
  item.absorb(backup);
}

FileSystemSpec read_one(JsonReader& item, const std::filesystem::path& base) {
  FileSystemSpec spec;
  spec.name = item.string("name");
  if (item.ok() && !plain_name(spec.name))
    item.fail("name", "expected 1-32 characters of a-z, 0-9, _ and -");
  spec.partition = item.string("partition");
  const std::string role = item.string("role", "data");
  const auto* known = std::find_if(std::begin(kFsRoles), std::end(kFsRoles),
                                   [&](const FsRoleName& r) { return role == r.name; });
  if (known == std::end(kFsRoles)) {
    item.fail("role", "expected one of modem, ap, data; got \"" + role + "\"");
  } else {
    spec.role = known->role;
  }
  read_backup_pair(item, spec);
  spec.ufs = item.boolean("ufs", false);
  spec.mount_name = item.string("mount", "");
  if (item.ok() && !spec.mount_name.empty() && !plain_name(spec.mount_name))
    item.fail("mount", "expected 1-32 characters of a-z, 0-9, _ and -");
  spec.alias = item.string("alias", "");
  spec.factory_dir = read_factory_dir(item, "factory", base);
  spec.generated_factory = item.boolean("generated_factory", true);
  spec.read_only = item.boolean("read_only", false);
  spec.ubi_volume = item.string("ubi_volume", "");
  if (item.ok() && !spec.ubi_volume.empty() && spec.ubi_volume.size() > nand::ubi::kVolumeNameMax)
    item.fail("ubi_volume", "expected a UBI volume name of 1-127 bytes");
  spec.linux_mount = item.string("linux_mount", "");
  if (item.ok() && !spec.linux_mount.empty() &&
      (spec.linux_mount.front() != '/' ||
       (spec.linux_mount.size() > 1 && spec.linux_mount.back() == '/')))
    item.fail("linux_mount", "expected an absolute path without a trailing '/'");
  if (item.ok() && !spec.ubi_volume.empty() && spec.has_backup())
    item.fail("ubi_volume", "a file system in a UBI volume has no partition backup");
  if (item.has("app_backup")) {
    auto app_backup = item.object("app_backup");
    spec.app_backup = true;
    spec.restore_enabled = app_backup.boolean("restore", true);
    app_backup.finish();
    item.absorb(app_backup);
  }
  item.finish();
  return spec;
}

// Profiles without the section: the two file systems the partition roles
// name, with the names every earlier version used.
void derive(Profile& p) {
  auto name_of = [&](PartitionRole role) {
    const PartitionEntry* entry = p.find_role(role);
    return entry ? entry->spec.name : std::string();
  };
  FileSystemSpec modem{.name = "modem",
                       .partition = name_of(PartitionRole::modem_fs),
                       .role = FsRole::modem,
                       .backup_data = name_of(PartitionRole::modem_fs_backup),
                       .backup_info = name_of(PartitionRole::modem_fs_backup_info),
                       .mount_name = "efs",
                       .alias = "efs",
                       .factory_dir = {},
                       .generated_factory = true,
                       .read_only = false,
                       .app_backup = false,
                       .restore_enabled = true,
                       .ubi_volume = {},
                       .linux_mount = {}};
  FileSystemSpec ap{.name = "ap",
                    .partition = name_of(PartitionRole::ap_fs),
                    .role = FsRole::ap,
                    .backup_data = name_of(PartitionRole::ap_fs_backup),
                    .backup_info = name_of(PartitionRole::ap_fs_backup_info),
                    .ufs = true,
                    .mount_name = "ufs",
                    .alias = "ufs",
                    .factory_dir = {},
                    .generated_factory = true,
                    .read_only = false,
                    .app_backup = false,
                    .restore_enabled = true,
                    .ubi_volume = {},
                    .linux_mount = {}};
  for (auto* spec : {&modem, &ap}) {
    if (spec->backup_data.empty() || spec->backup_info.empty()) spec->backup_data.clear();
    if (spec->backup_data.empty()) spec->backup_info.clear();
  }
  p.file_systems = {std::move(modem), std::move(ap)};
}

// The partitions a file system uses, checked to exist and to serve no one
// else; a partition whose role names a file-system part must be used as it.
void check_partitions(JsonReader& root, const Profile& p) {
  std::set<std::string> used;
  for (std::size_t i = 0; i < p.file_systems.size() && root.ok(); ++i) {
    const FileSystemSpec& fs = p.file_systems[i];
    const std::string at = "file_systems[" + std::to_string(i) + "]";
    for (const auto& [key, name] :
         {std::pair{"partition", fs.partition}, std::pair{"backup.data", fs.backup_data},
          std::pair{"backup.info", fs.backup_info}}) {
      if (name.empty()) continue;
      const std::string field = at + "." + key;
      if (!p.find(name)) {
        root.fail(field, "no partition is named \"" + name + "\"");
        return;
      }
      if (!used.insert(name).second) {
        root.fail(field, "partition \"" + name + "\" already serves another file system");
        return;
      }
    }
  }
  const std::pair<PartitionRole, FsRole> owners[] = {{PartitionRole::modem_fs, FsRole::modem},
                                                     {PartitionRole::ap_fs, FsRole::ap}};
  for (const auto& [partition_role, fs_role] : owners) {
    const PartitionEntry* entry = p.find_role(partition_role);
    const FileSystemSpec* fs = p.file_system(fs_role);
    if (entry && fs && entry->spec.name != fs->partition) {
      root.fail("file_systems", "partition \"" + entry->spec.name + "\" has role " +
                                    std::string(to_string(partition_role)) + " but the " +
                                    std::string(to_string(fs_role)) + " file system lives in \"" +
                                    fs->partition + "\"");
      return;
    }
  }
}

// Exactly one modem and one AP file system, one UFS, names unique.
void check_roles(JsonReader& root, Profile& p) {
  std::set<std::string> names;
  int modem = 0, ap = 0, ufs = 0;
  for (const auto& fs : p.file_systems) {
    for (const std::string& name :
         {fs.name, fs.alias, fs.mount_name.empty() ? "" : "mount:" + fs.mount_name}) {
      if (!name.empty() && !names.insert(name).second) {
        root.fail("file_systems", "the name \"" + name + "\" is used twice");
        return;
      }
    }
    modem += fs.role == FsRole::modem;
    ap += fs.role == FsRole::ap;
    ufs += fs.ufs;
  }
  if (modem != 1 || ap != 1) {
    root.fail("file_systems",
              "expected exactly one file system with role modem and one with "
              "role ap (the module's modem and AP sides need them)");
    return;
  }
  if (ufs > 1) {
    root.fail("file_systems", "more than one file system has \"ufs\": true");
    return;
  }
  if (ufs == 0) {
    for (auto& fs : p.file_systems)
      fs.ufs = fs.role == FsRole::ap;
  }
  // Boot order: modem (before RDY), AP, then the others (before APP RDY).
  std::stable_sort(
      p.file_systems.begin(), p.file_systems.end(),
      [](const FileSystemSpec& a, const FileSystemSpec& b) { return a.role < b.role; });
}

// QuecPython: one backup file system ("app_backup"), read-only to the user,
// besides the AP one (/usr) whose files it backs up. Elsewhere no file
// system is one.
void check_app_backup(JsonReader& root, const Profile& p) {
  int backups = 0;
  for (std::size_t i = 0; i < p.file_systems.size(); ++i) {
    const FileSystemSpec& fs = p.file_systems[i];
    if (!fs.app_backup) continue;
    const std::string at = "file_systems[" + std::to_string(i) + "].app_backup";
    if (p.family != Family::quecpython)
      return root.fail(at, "only the quecpython family has a per-file backup file system");
    if (fs.role != FsRole::data || !fs.read_only || fs.ufs)
      return root.fail(at,
                       "the backup file system must have role data and \"read_only\": true "
                       "and must not be the UFS one");
    ++backups;
  }
  if (p.family == Family::quecpython && backups != 1) {
    root.fail("file_systems",
              "the quecpython family needs exactly one file system with \"app_backup\" (/bak)");
  }
}

void check_family(JsonReader& root, const Profile& p) {
  check_app_backup(root, p);
  if (!root.ok() || p.family == Family::bg95) return;
  for (std::size_t i = 0; i < p.file_systems.size(); ++i) {
    if (p.file_systems[i].has_backup()) {
      root.fail("file_systems[" + std::to_string(i) + "].backup",
                "family " + std::string(to_string(p.family)) +
                    " has no partition backup (AT+QPRTPARA is BG95-family firmware)");
      return;
    }
  }
}

}  // namespace

std::string read_factory_dir(JsonReader& in, const std::string& key,
                             const std::filesystem::path& base) {
  const std::string dir = in.string(key, "");
  if (dir.empty() || !in.ok()) return "";
  const std::filesystem::path resolved =
      std::filesystem::path(dir).is_absolute() ? std::filesystem::path(dir) : base / dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(resolved, ec)) {
    in.fail(key, "expected a directory of factory files, but " + resolved.string() + " is not one");
    return "";
  }
  return resolved.string();
}

std::string_view to_string(Family family) {
  for (const auto& f : kFamilies) {
    if (f.family == family) return f.name;
  }
  return "bg95";
}

std::string_view to_string(FsRole role) {
  for (const auto& r : kFsRoles) {
    if (r.role == role) return r.name;
  }
  return "data";
}

void read_family(JsonReader& root, Profile& p) {
  const std::string name = root.string("family", "bg95");
  if (!root.ok()) return;
  for (const auto& f : kFamilies) {
    if (name != f.name) continue;
    if (!f.available) {
      root.fail("family", "the " + name + " family is not available in this version of vmodem");
      return;
    }
    p.family = f.family;
    return;
  }
  root.fail("family",
            "expected one of bg95, uc20, ec2x-quecopen, quecpython; got \"" + name + "\"");
}

void read_file_systems(JsonReader& root, Profile& p, const std::filesystem::path& base) {
  // The partition table says which partitions hold the modem and AP file
  // systems (image tools and the layer checks read it); the list below says
  // how the firmware uses them, and must agree.
  for (const auto role : {PartitionRole::modem_fs, PartitionRole::ap_fs}) {
    if (p.find_role(role) == nullptr) {
      return root.fail("partitions", "no partition has role " + std::string(to_string(role)) +
                                         ": the module's " +
                                         (role == PartitionRole::modem_fs ? "modem" : "AP") +
                                         " file system needs one");
    }
  }
  if (!root.has("file_systems")) {
    derive(p);
  } else {
    for (auto& item : root.array("file_systems")) {
      p.file_systems.push_back(read_one(item, base));
      root.absorb(item);
    }
    if (!root.ok()) return;
    for (std::size_t i = 0; i < p.file_systems.size(); ++i) {
      const FileSystemSpec& fs = p.file_systems[i];
      if (fs.backup_data.empty() != fs.backup_info.empty()) {
        root.fail("file_systems[" + std::to_string(i) + "].backup",
                  "expected both \"data\" and \"info\"");
        return;
      }
    }
  }
  for (auto& fs : p.file_systems) {
    if (!fs.factory_dir.empty()) continue;
    if (fs.role == FsRole::modem) fs.factory_dir = p.factory.modem_fs_dir;
    if (fs.role == FsRole::ap) fs.factory_dir = p.factory.ap_fs_dir;
  }
  check_roles(root, p);
  if (root.ok()) check_partitions(root, p);
  if (root.ok()) check_family(root, p);
}

}  // namespace vmodem::sim
