#include "quecpython/guardian.hpp"

#include <algorithm>
#include <memory>

namespace vmodem::sim::quecpython {

namespace {

using fs::Errc;

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// A cut ends the run at once; anything else a file does wrong is the
// file's problem, reported and stepped over.
bool fatal(const fs::Error& error) {
  return error.code == Errc::power_loss;
}

// Removes `path` when a cut left it; writes nothing when it is not there.
fs::Status remove_if_present(fs::FileSystem& fs, std::string_view path) {
  auto st = fs.stat(path);
  if (!st) return st.error().code == Errc::not_found ? fs::Status{} : tl::unexpected(st.error());
  return fs.unlink(path);
}

// The directories above `path` ("/a/b/c.py": /a, /a/b), made when missing.
fs::Status make_parents(fs::FileSystem& fs, std::string_view path) {
  for (auto slash = path.find('/', 1); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    const std::string_view dir = path.substr(0, slash);
    auto st = fs.stat(dir);
    if (st) continue;
    if (st.error().code != Errc::not_found) return tl::unexpected(st.error());
    if (auto ok = fs.mkdir(dir); !ok) return ok;
  }
  return {};
}

// Reads the checksum list at kChecksumPath: the list, or nullopt with
// `why` set (not_found when there is no file, else the parse error).
struct ListRead {
  std::optional<ChecksumList> list;
  std::vector<std::uint8_t> bytes;
  bool missing = false;
  std::string why;
};

fs::Result<ListRead> read_list(fs::FileSystem& fs) {
  ListRead out;
  auto st = fs.stat(kChecksumPath);
  if (!st) {
    if (st.error().code != Errc::not_found) return tl::unexpected(st.error());
    out.missing = true;
    out.why = "no checksum.json";
    return out;
  }
  if (st->type != fs::FileType::file || st->size > kChecksumMaxBytes) {
    out.why = st->type != fs::FileType::file ? "checksum.json is a directory"
                                             : "checksum.json is larger than 16 KiB";
    return out;
  }
  auto data = fs.read_file(kChecksumPath);
  if (!data) {
    if (fatal(data.error())) return tl::unexpected(data.error());
    out.why = "checksum.json unreadable: " + data.error().message();
    return out;
  }
  auto list = parse_checksum_list(*data);
  if (!list) {
    out.why = "checksum.json: " + list.error();
    return out;
  }
  out.list = std::move(*list);
  out.bytes = std::move(*data);
  return out;
}

// One run of the guardian: the report being built and the steps.
class Run {
 public:
  Run(fs::FileSystem& usr, fs::FileSystem& bak) : usr_(usr), bak_(bak) {}

  fs::Result<GuardianReport> go() {
    if (auto ok = enabled(); !ok) return tl::unexpected(ok.error());
    if (!report_.enabled) return std::move(report_);
    // Temporary files a cut left: no committed target refers to them.
    for (const auto temp : {kRestoreTemp, kChecksumTemp}) {
      if (auto ok = remove_if_present(usr_, temp); !ok) return tl::unexpected(ok.error());
    }
    auto list = user_list();
    if (!list) return tl::unexpected(list.error());
    if (!*list) return std::move(report_);
    ChecksumList& entries = **list;
    bool changed = false;
    for (ChecksumEntry& entry : entries) {
      auto restored = check_entry(entry);
      if (!restored) return tl::unexpected(restored.error());
      changed |= *restored;
    }
    if (changed) {
      const std::string text = serialize_checksum_list(entries);
      if (auto ok = replace_file(usr_, kChecksumPath, kChecksumTemp, bytes_of(text)); !ok) {
        if (fatal(ok.error())) return tl::unexpected(ok.error());
        report_.problems.push_back("/usr/checksum.json not rewritten: " + ok.error().message());
      }
    }
    return std::move(report_);
  }

 private:
  // /bak/backup_restore.json says whether the firmware restores at all.
  fs::Status enabled() {
    auto data = bak_.read_file(kEnablePath);
    if (!data) {
      if (fatal(data.error())) return tl::unexpected(data.error());
      report_.disabled_reason = data.error().code == Errc::not_found
                                    ? "no backup_restore.json in /bak"
                                    : "/bak/backup_restore.json: " + data.error().message();
      return {};
    }
    auto enable = parse_enable(*data);
    if (!enable) {
      report_.disabled_reason = "/bak/backup_restore.json: " + enable.error();
    } else if (!*enable) {
      report_.disabled_reason = "disabled by /bak/backup_restore.json";
    }
    report_.enabled = enable && *enable;
    return {};
  }

  // /usr/checksum.json, copied from /bak first when missing or no list.
  // nullopt (with a problem noted) when neither has a usable one.
  fs::Result<std::optional<ChecksumList>> user_list() {
    auto user = read_list(usr_);
    if (!user) return tl::unexpected(user.error());
    if (user->list) return std::move(user->list);
    auto backup = read_list(bak_);
    if (!backup) return tl::unexpected(backup.error());
    if (!backup->list) {
      report_.problems.push_back("/usr: " + user->why + "; /bak: " + backup->why +
                                 ": nothing to verify against");
      return std::optional<ChecksumList>{};
    }
    if (auto ok = replace_file(usr_, kChecksumPath, kChecksumTemp, backup->bytes); !ok) {
      if (fatal(ok.error())) return tl::unexpected(ok.error());
      report_.problems.push_back("/usr/checksum.json not copied from /bak: " +
                                 ok.error().message());
      return std::optional<ChecksumList>{};
    }
    report_.restored.push_back(
        {name_of(kChecksumPath),
         std::string(user->missing ? kReasonListMissing : kReasonListInvalid)});
    return std::move(backup->list);
  }

  // Verifies one listed file and restores it when it must. True when its
  // entry changed.
  fs::Result<bool> check_entry(ChecksumEntry& entry) {
    const std::string_view path = entry.fs_path();
    std::string_view reason = kReasonChecksum;
    auto crc = file_crc32(usr_, path);
    if (crc) {
      if (*crc == entry.crc32) return false;
    } else {
      if (fatal(crc.error())) return tl::unexpected(crc.error());
      // Gone, or no longer a file: missing. Unreadable (ECC, torn): corrupt.
      const Errc code = crc.error().code;
      if (code == Errc::not_found || code == Errc::is_dir || code == Errc::not_dir)
        reason = kReasonMissing;
    }
    // /bak keeps it under the name it has in the list (/bak/usr/<path>).
    auto data = bak_.read_file(entry.name);
    if (!data) {
      if (fatal(data.error())) return tl::unexpected(data.error());
      report_.problems.push_back(entry.name + " is " + std::string(reason) +
                                 " but /bak has no copy: " + data.error().message());
      return false;
    }
    if (auto ok = replace_file(usr_, path, kRestoreTemp, *data); !ok) {
      if (fatal(ok.error())) return tl::unexpected(ok.error());
      report_.problems.push_back(entry.name + " not restored: " + ok.error().message());
      return false;
    }
    report_.restored.push_back({entry.name, std::string(reason)});
    const std::uint32_t restored_crc = fs::crc32(*data);
    const bool changed = restored_crc != entry.crc32;
    entry.crc32 = restored_crc;
    return changed;
  }

  fs::FileSystem& usr_;
  fs::FileSystem& bak_;
  GuardianReport report_;
};

}  // namespace

fs::Status replace_file(fs::FileSystem& fs, std::string_view path, std::string_view temp,
                        std::span<const std::uint8_t> bytes) {
  if (auto ok = remove_if_present(fs, temp); !ok) return ok;
  auto handle = fs.open(temp, fs::kWrite | fs::kCreate | fs::kTruncate);
  if (!handle) return tl::unexpected(handle.error());
  if (auto wrote = fs.write(*handle, bytes); !wrote || *wrote != bytes.size()) {
    const fs::Error error =
        wrote ? fs::Error{Errc::io_error, "short write", std::nullopt} : wrote.error();
    if (error.code != Errc::power_loss) {
      (void)fs.close_discard(*handle);
      (void)fs.unlink(temp);
    }
    return tl::unexpected(error);
  }
  // Committed before the rename makes it the target: never a torn target.
  if (auto ok = fs.close(*handle); !ok) return ok;
  if (auto ok = make_parents(fs, path); !ok) return ok;
  return fs.rename(temp, path);
}

fs::Result<std::uint32_t> file_crc32(fs::FileSystem& fs, std::string_view path) {
  auto handle = fs.open(path, fs::kRead);
  if (!handle) return tl::unexpected(handle.error());
  // The boot checks every listed file: no zero-filling of a buffer the
  // reads overwrite, and no read past the size the handle reports.
  constexpr std::size_t kChunk = 16 * 1024;
  const auto buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kChunk);
  auto st = fs.fstat(*handle);
  if (!st) {
    (void)fs.close(*handle);
    return tl::unexpected(st.error());
  }
  std::uint32_t crc = 0;
  std::uint64_t at = 0;
  while (at < st->size) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, st->size - at));
    auto got = fs.pread(*handle, {buffer.get(), want}, at);
    if (!got) {
      (void)fs.close(*handle);
      return tl::unexpected(got.error());
    }
    if (*got == 0) break;
    crc = fs::crc32_update(crc, {buffer.get(), *got});
    at += *got;
  }
  if (auto ok = fs.close(*handle); !ok) return tl::unexpected(ok.error());
  return crc;
}

fs::Result<ChecksumUpdate> update_checksum(fs::FileSystem& usr, std::string_view name) {
  auto read = read_list(usr);
  if (!read) return tl::unexpected(read.error());
  if (read->missing) return fs::fail(Errc::not_found, "/usr/checksum.json does not exist");
  if (!read->list) return fs::fail(Errc::corrupt, "/usr/" + read->why);
  // Found as QuecPython finds it, without regard to case; the file is the
  // one the entry names.
  ChecksumEntry* entry = find_entry(*read->list, name);
  if (!entry) {
    return fs::fail(Errc::invalid_argument,
                    std::string(name) + " is not listed in /usr/checksum.json (not backed up)");
  }
  const auto path = fs_path_of(entry->name);  // parse_checksum_list checked it
  if (!path) return fs::fail(Errc::invalid_argument, entry->name + " is not under /usr");
  auto crc = file_crc32(usr, *path);
  if (!crc) return tl::unexpected(crc.error());
  if (entry->crc32 == *crc) return ChecksumUpdate{*crc, false};  // nothing to write
  entry->crc32 = *crc;
  const std::string text = serialize_checksum_list(*read->list);
  if (auto ok = replace_file(usr, kChecksumPath, kChecksumTemp, bytes_of(text)); !ok)
    return tl::unexpected(ok.error());
  return ChecksumUpdate{*crc, true};
}

fs::Result<GuardianReport> restore_from_backup(fs::FileSystem& usr, fs::FileSystem& bak) {
  return Run(usr, bak).go();
}

}  // namespace vmodem::sim::quecpython
