#include "quecopen/app_sync.hpp"

#include <cctype>
#include <charconv>
#include <string_view>

namespace vmodem::sim::quecopen {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

bool missing(const fs::Status& status) {
  return !status && status.error().code == fs::Errc::not_found;
}

// rm -rf: the tree at `path`, if any.
fs::Status remove_tree(AppSide& side, const std::string& path) {
  auto st = side.fs->stat(path);
  if (!st)
    return st.error().code == fs::Errc::not_found ? fs::Status{} : tl::unexpected(st.error());
  if (st->type == fs::FileType::file) return side.cache->unlink(path);
  auto entries = side.fs->readdir(path);
  if (!entries) return tl::unexpected(entries.error());
  for (const auto& entry : *entries)
    if (auto removed = remove_tree(side, join(path, entry.name)); !removed) return removed;
  return side.cache->rmdir(path);
}

// mkdir -p.
fs::Status make_dirs(AppSide& side, const std::string& path) {
  for (std::size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    const std::string prefix = at == std::string::npos ? path : path.substr(0, at);
    auto made = side.cache->mkdir(prefix);
    if (!made && made.error().code != fs::Errc::exists) return made;
    if (at == std::string::npos) return {};
  }
}

// cp -r of the contents of `from_dir` into the existing `to_dir`.
fs::Status copy_tree(AppSide& from, const std::string& from_dir, AppSide& to,
                     const std::string& to_dir, AppSyncReport& report) {
  auto entries = from.fs->readdir(from_dir);
  if (!entries) return tl::unexpected(entries.error());
  for (const auto& entry : *entries) {
    const std::string source = join(from_dir, entry.name);
    const std::string target = join(to_dir, entry.name);
    if (entry.type == fs::FileType::directory) {
      auto made = to.cache->mkdir(target);
      if (!made && made.error().code != fs::Errc::exists) return made;
      if (auto copied = copy_tree(from, source, to, target, report); !copied) return copied;
      continue;
    }
    auto data = from.cache->read_file(source);
    if (!data) return tl::unexpected(data.error());
    if (auto written = to.cache->write_file(target, *data); !written) return written;
    ++report.files;
    report.bytes += data->size();
  }
  return {};
}

// Linux's sync: every file system's dirty data.
fs::Status sync_all(AppSide& a, AppSide& b) {
  if (auto synced = a.cache->sync(); !synced) return synced;
  return b.cache->sync();
}

fs::Status copy_tag(AppSide& from, AppSide& to, TagWrite how) {
  auto tag = from.cache->read_file(from.tag);
  if (!tag) return tl::unexpected(tag.error());
  if (how != TagWrite::atomic) return to.cache->write_file(to.tag, *tag);
  const std::string temporary = to.tag + ".new";
  if (auto written = to.cache->write_file(temporary, *tag); !written) return written;
  if (auto synced = to.cache->fsync(temporary); !synced) return synced;
  return to.cache->rename(temporary, to.tag);
}

fs::Status copy_side(AppSide& from, AppSide& to, AppSide& system, AppSide& backup, TagWrite how,
                     AppSyncReport& report) {
  if (auto removed = remove_tree(to, to.apps); !removed) return removed;
  if (auto removed = to.cache->unlink(to.tag); !removed && !missing(removed)) return removed;
  if (auto made = make_dirs(to, to.apps); !made) return made;
  if (auto copied = copy_tree(from, from.apps, to, to.apps, report); !copied) return copied;
  if (how != TagWrite::unsynced_tree) {
    if (auto synced = sync_all(system, backup); !synced) return synced;
  }
  if (auto tagged = copy_tag(from, to, how); !tagged) return tagged;
  return sync_all(system, backup);
}

}  // namespace

const char* to_string(SyncOutcome outcome) {
  switch (outcome) {
    case SyncOutcome::in_step:
      return "in_step";
    case SyncOutcome::to_backup:
      return "to_backup";
    case SyncOutcome::to_system:
      return "to_system";
    case SyncOutcome::unparsable_tag:
      return "unparsable_tag";
  }
  return "?";
}

fs::Result<std::optional<std::int64_t>> read_version(AppSide& side) {
  auto data = side.cache->read_file(side.tag);
  if (!data) {
    if (data.error().code == fs::Errc::not_found) return std::optional<std::int64_t>(-1);
    return tl::unexpected(data.error());
  }
  std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t version = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(version);
}

fs::Result<AppSyncReport> sync_apps(AppSide& system, AppSide& backup, TagWrite tag_write) {
  AppSyncReport report;
  auto system_version = read_version(system);
  if (!system_version) return tl::unexpected(system_version.error());
  auto backup_version = read_version(backup);
  if (!backup_version) return tl::unexpected(backup_version.error());
  if (!*system_version || !*backup_version) {
    report.outcome = SyncOutcome::unparsable_tag;
    report.system_version = system_version->value_or(-1);
    report.backup_version = backup_version->value_or(-1);
    return report;
  }
  report.system_version = **system_version;
  report.backup_version = **backup_version;
  if (report.system_version == report.backup_version) return report;
  const bool to_backup = report.system_version > report.backup_version;
  report.outcome = to_backup ? SyncOutcome::to_backup : SyncOutcome::to_system;
  AppSide& from = to_backup ? system : backup;
  AppSide& to = to_backup ? backup : system;
  if (auto copied = copy_side(from, to, system, backup, tag_write, report); !copied)
    return tl::unexpected(copied.error());
  return report;
}

}  // namespace vmodem::sim::quecopen
