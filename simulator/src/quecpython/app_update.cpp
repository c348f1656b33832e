#include "quecpython/app_update.hpp"

#include <algorithm>

#include "quecpython/checksum_file.hpp"
#include "quecpython/guardian.hpp"

namespace vmodem::sim::quecpython {

namespace {

using fs::Errc;

constexpr std::string_view kJournalMagic = "VMAPPJ1 ";

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

fs::Status remove_if_present(fs::FileSystem& fs, std::string_view path) {
  auto st = fs.stat(path);
  if (!st) return st.error().code == Errc::not_found ? fs::Status{} : tl::unexpected(st.error());
  return fs.unlink(path);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  return out;
}

// Files the update and the guardian write themselves: a package naming one
// would fight them.
bool reserved(std::string_view fs_path) {
  const std::string name = lower(fs_path);
  return name == kChecksumPath || name.starts_with("/.app_fota") || name == kRestoreTemp ||
         name == kChecksumTemp;
}

// What /usr holds at a package file's path.
struct Now {
  enum Kind : std::uint8_t { absent, file, other } kind = absent;
  std::vector<std::uint8_t> data;
};

fs::Result<Now> read_now(fs::FileSystem& usr, std::string_view fs_path) {
  auto data = usr.read_file(fs_path);
  if (data) return Now{Now::file, std::move(*data)};
  const Errc code = data.error().code;
  if (code == Errc::power_loss) return tl::unexpected(data.error());
  if (code == Errc::not_found || code == Errc::not_dir) return Now{};
  return Now{Now::other, {}};  // a directory, or unreadable: neither old nor new
}

bool matches(const Now& now, bool present, std::uint64_t size, const fota::FileDigest& digest) {
  if (!present) return now.kind == Now::absent;
  return now.kind == Now::file && now.data.size() == size && fota::file_digest(now.data) == digest;
}

bool at_source(const Now& now, const fota::AppPackageFile& file) {
  return matches(now, file.has_source, file.source_size, file.source_digest);
}
bool at_target(const Now& now, const fota::AppPackageFile& file) {
  return matches(now, file.has_target, file.target_size, file.target_digest);
}

std::string journal_text(const fota::AppPackage& header) {
  return std::string(kJournalMagic) + fota::to_hex(header.package_id) + "\n";
}

// The list the update rewrites: /usr's, or /bak's when /usr has none (the
// guardian would copy /bak's old entries over the update otherwise).
// nullopt: neither has one (no backup; nothing to keep in step).
fs::Result<std::optional<ChecksumList>> checksum_list(fs::FileSystem& usr, fs::FileSystem* bak) {
  for (fs::FileSystem* fs : {&usr, bak}) {
    if (fs == nullptr) continue;
    auto data = fs->read_file(kChecksumPath);
    if (!data) {
      if (data.error().code == Errc::power_loss) return tl::unexpected(data.error());
      continue;
    }
    if (auto list = parse_checksum_list(*data))
      return std::optional<ChecksumList>(std::move(*list));
  }
  return std::optional<ChecksumList>{};
}

// One boot's apply of a checked package.
class Apply {
 public:
  Apply(fs::FileSystem& usr, fs::FileSystem* bak, std::span<const std::uint8_t> package,
        const fota::AppPackage& header, AppUpdateReport& report)
      : usr_(usr), bak_(bak), package_(package), header_(header), report_(report) {}

  // Steps 2-4 (the journal, when kept, is written by the caller).
  fs::Status run() {
    for (const fota::AppPackageFile& file : header_.files) {
      if (auto ok = one_file(file); !ok) return ok;
    }
    if (auto ok = update_checksums(); !ok) return ok;
    if (auto ok = remove_if_present(usr_, kJournal); !ok) return ok;
    return remove_if_present(usr_, kStagedPackage);
  }

 private:
  fs::Status one_file(const fota::AppPackageFile& file) {
    const std::string path = *fs_path_of(file.path);  // the package parser checked it
    auto now = read_now(usr_, path);
    if (!now) return tl::unexpected(now.error());
    if (at_target(*now, file)) return {};  // done before a cut
    if (!at_source(*now, file)) {
      return fs::fail(Errc::corrupt, file.path + " is neither the package's source nor its target");
    }
    report_.files.push_back(file.path);
    if (!file.has_target) return usr_.unlink(path);
    auto target = fota::app_file_target(package_, header_, file, now->data);
    if (!target) return fs::fail(Errc::corrupt, file.path + ": " + target.error().message);
    return replace_file(usr_, path, kFileTemp, *target);
  }

  // Step 3: every listed file of the package gets its new CRC-32 (read back
  // from /usr, so a roll-forward that wrote nothing computes the same list).
  fs::Status update_checksums() {
    auto list = checksum_list(usr_, bak_);
    if (!list) return tl::unexpected(list.error());
    if (!*list) return {};
    ChecksumList& entries = **list;
    for (const fota::AppPackageFile& file : header_.files) {
      ChecksumEntry* entry = find_entry(entries, file.path);
      if (entry == nullptr) continue;  // not backed up: no entry to keep in step
      if (!file.has_target) {
        entries.erase(entries.begin() + (entry - entries.data()));
        continue;
      }
      auto crc = file_crc32(usr_, *fs_path_of(file.path));
      if (!crc) return tl::unexpected(crc.error());
      entry->crc32 = *crc;
    }
    const std::string text = serialize_checksum_list(entries);
    auto current = usr_.read_file(kChecksumPath);
    if (!current && current.error().code == Errc::power_loss)
      return tl::unexpected(current.error());
    if (current && std::equal(current->begin(), current->end(), text.begin(), text.end()))
      return {};  // written before a cut
    return replace_file(usr_, kChecksumPath, kChecksumTemp, bytes_of(text));
  }

  fs::FileSystem& usr_;
  fs::FileSystem* bak_;
  std::span<const std::uint8_t> package_;
  const fota::AppPackage& header_;
  AppUpdateReport& report_;
};

void count(const fota::AppPackage& header, AppUpdateReport& report) {
  for (const auto& file : header.files) {
    ++(file.added() ? report.added : file.removed() ? report.removed : report.changed);
  }
}

AppUpdateReport refused(const fota::Error& error) {
  AppUpdateReport report;
  report.state = AppUpdateState::refused;
  report.end_code = fota::end_code(error.code);
  report.message = error.message;
  return report;
}

}  // namespace

std::string_view to_string(AppUpdateState state) {
  switch (state) {
    case AppUpdateState::none:
      return "none";
    case AppUpdateState::applied:
      return "applied";
    case AppUpdateState::resumed:
      return "resumed";
    case AppUpdateState::refused:
      return "refused";
  }
  return "none";
}

fs::Result<PackageCheck> check_app_package(fs::FileSystem& usr,
                                           std::span<const std::uint8_t> package,
                                           std::string_view model) {
  PackageCheck check;
  auto header = fota::parse_app_package(package);
  if (!header) {
    check.refused = header.error();
    return check;
  }
  check.header = std::move(*header);
  if (check.header.model != model) {
    check.refused = fota::Error{
        fota::ErrorCode::kFirmwareMismatch,
        "the package is for " + check.header.model + ", this module is " + std::string(model)};
    return check;
  }
  check.at_source = check.at_target = true;
  for (const fota::AppPackageFile& file : check.header.files) {
    const auto path = fs_path_of(file.path);
    if (!path || reserved(*path)) {
      check.refused = fota::Error{fota::ErrorCode::kBadPackage,
                                  file.path + " is the module's own file: no package may write it"};
      return check;
    }
    auto now = read_now(usr, *path);
    if (!now) return tl::unexpected(now.error());
    const bool old_one = at_source(*now, file);
    const bool new_one = at_target(*now, file);
    if (!old_one && !new_one) {
      check.refused =
          fota::Error{fota::ErrorCode::kFirmwareMismatch,
                      file.path +
                          (file.has_source ? (now->kind == Now::absent ? " is missing" : " differs")
                                           : " exists") +
                          " in /usr: the package is for other files"};
      return check;
    }
    check.at_source &= old_one;
    check.at_target &= new_one;
  }
  return check;
}

fs::Result<PackageCheck> stage_app_update(fs::FileSystem& usr,
                                          std::span<const std::uint8_t> package,
                                          const AppUpdateOptions& options) {
  auto check = check_app_package(usr, package, options.model);
  if (!check || check->refused) return check;
  if (!check->at_source) {
    check->refused = fota::Error{fota::ErrorCode::kFirmwareMismatch,
                                 "/usr holds the package's new files already"};
    return check;
  }
  auto journal = usr.stat(kJournal);
  if (journal || journal.error().code != Errc::not_found) {
    if (!journal && journal.error().code == Errc::power_loss)
      return tl::unexpected(journal.error());
    check->refused =
        fota::Error{fota::ErrorCode::kAborted, "an update is being applied: reboot first"};
    return check;
  }
  // Room for the package and, at the boot, the largest new file beside its
  // old one, the journal and checksum.json's temporary copy: an apply that
  // runs out of space half-way cannot be finished.
  std::uint64_t largest = 0;
  for (const auto& file : check->header.files)
    largest = std::max(largest, file.target_size);
  auto space = usr.statfs();
  if (!space) return tl::unexpected(space.error());
  const std::uint64_t needed = package.size() + largest + 2 * kChecksumMaxBytes;
  if (space->free_bytes < needed) {
    check->refused = fota::Error{fota::ErrorCode::kNoSpace,
                                 "/usr has " + std::to_string(space->free_bytes) +
                                     " bytes free, the update needs " + std::to_string(needed)};
    return check;
  }
  if (auto ok = replace_file(usr, kStagedPackage, kStagingTemp, package); !ok)
    return tl::unexpected(ok.error());
  return check;
}

fs::Result<AppUpdateReport> apply_staged_update(fs::FileSystem& usr, fs::FileSystem* bak,
                                                const AppUpdateOptions& options) {
  // Temporary files a cut left: nothing committed refers to them.
  for (const auto temp : {kFileTemp, kStagingTemp, kJournalTemp}) {
    if (auto ok = remove_if_present(usr, temp); !ok) return tl::unexpected(ok.error());
  }
  auto package = usr.read_file(kStagedPackage);
  auto journal = usr.read_file(kJournal);
  for (const auto* read : {&package, &journal}) {
    if (!*read && read->error().code == Errc::power_loss) return tl::unexpected(read->error());
  }
  const auto drop_all = [&usr]() -> fs::Status {
    if (auto ok = remove_if_present(usr, kJournal); !ok) return ok;
    return remove_if_present(usr, kStagedPackage);
  };
  if (!package) {
    if (!journal) return AppUpdateReport{};
    // Only a hand that removed the package gets here: nothing to finish with.
    if (auto ok = drop_all(); !ok) return tl::unexpected(ok.error());
    return refused({fota::ErrorCode::kAborted,
                    "an update journal without its package: the update cannot be finished"});
  }
  auto check = check_app_package(usr, *package, options.model);
  if (!check) return tl::unexpected(check.error());
  if (check->refused) {
    if (auto ok = drop_all(); !ok) return tl::unexpected(ok.error());
    return refused(*check->refused);
  }
  AppUpdateReport report;
  count(check->header, report);
  const std::string text = journal_text(check->header);
  const bool resuming =
      journal && std::equal(journal->begin(), journal->end(), text.begin(), text.end());
  if (!resuming) {
    if (check->at_target) {
      // The apply finished and was cut while removing the package.
      if (auto ok = drop_all(); !ok) return tl::unexpected(ok.error());
      report.state = AppUpdateState::applied;
      return report;
    }
    if (!check->at_source) {
      // Some files new, some old, and no journal says an apply was under
      // way: only the journal-less reference gets here.
      if (auto ok = drop_all(); !ok) return tl::unexpected(ok.error());
      return refused({fota::ErrorCode::kFirmwareMismatch,
                      "/usr holds some of the package's new files and no journal"});
    }
    if (options.journal) {
      if (auto ok = replace_file(usr, kJournal, kJournalTemp, bytes_of(text)); !ok)
        return tl::unexpected(ok.error());
    } else if (journal) {
      if (auto ok = usr.unlink(kJournal); !ok) return tl::unexpected(ok.error());
    }
  }
  report.state = resuming ? AppUpdateState::resumed : AppUpdateState::applied;
  if (auto ok = Apply(usr, bak, *package, check->header, report).run(); !ok) {
    if (ok.error().code == Errc::power_loss) return tl::unexpected(ok.error());
    // A file changed under the apply or the flash failed with power on: the
    // package goes, and the guardian brings back what it can.
    if (auto dropped = drop_all(); !dropped) return tl::unexpected(dropped.error());
    AppUpdateReport failed = refused({fota::ErrorCode::kAborted, ok.error().message()});
    failed.files = std::move(report.files);
    return failed;
  }
  return report;
}

}  // namespace vmodem::sim::quecpython
