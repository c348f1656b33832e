#include "image_io.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bits.hpp"

namespace vmodem::nand::image_io {

namespace {

constexpr std::uint64_t kChunk = 64 * 1024;
constexpr std::uint64_t kMiB = 1024 * 1024;

std::string errno_message(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string mib(std::uint64_t bytes) {
  return std::to_string((bytes + kMiB - 1) / kMiB) + " MiB";
}

// What a host pointed us at, for messages.
std::string kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

bool full(int error) {
  return error == ENOSPC || error == EDQUOT;
}

std::uint64_t free_bytes(int fd) {
  struct statvfs vfs {};
  if (fstatvfs(fd, &vfs) != 0) return 0;
  return std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
}

Status no_space(int fd, std::uint64_t size, const std::filesystem::path& path) {
  return fail(Errc::no_space, -1, -1,
              "not enough disk space for the " + mib(size) + " image at " + path.string() + " (" +
                  mib(free_bytes(fd)) +
                  " free on its file system); free some space or use another directory");
}

bool all_zero(const std::uint8_t* bytes, std::uint64_t n) {
  return bits::all_zero({bytes, n});
}

bool pwrite_all(int fd, const std::uint8_t* bytes, std::uint64_t n, std::uint64_t at) {
  while (n > 0) {
    const ssize_t done = pwrite(fd, bytes, n, static_cast<off_t>(at));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) {
      if (done == 0) errno = EIO;
      return false;
    }
    bytes += done;
    n -= static_cast<std::uint64_t>(done);
    at += static_cast<std::uint64_t>(done);
  }
  return true;
}

// The fallback where fallocate is not supported (some network and FUSE file
// systems): write zeros into every page that reads as zero, so each one is
// backed by an allocated block. Pages that hold data are allocated already.
// Costs a full write of an empty image once; correctness comes first.
Status fill_holes(int fd, std::uint64_t size, const std::filesystem::path& path) {
  constexpr std::uint64_t kPage = 4096;
  std::vector<std::uint8_t> buffer(kChunk);
  for (std::uint64_t at = 0; at < size; at += kChunk) {
    const std::uint64_t n = std::min(kChunk, size - at);
    const ssize_t got = pread(fd, buffer.data(), n, static_cast<off_t>(at));
    if (got != static_cast<ssize_t>(n)) {
      return fail(Errc::io_error, -1, -1,
                  "cannot read " + path.string() + ": " + errno_message(got < 0 ? errno : EIO));
    }
    for (std::uint64_t page = 0; page < n; page += kPage) {
      const std::uint64_t len = std::min(kPage, n - page);
      if (!all_zero(buffer.data() + page, len)) continue;
      if (!pwrite_all(fd, buffer.data() + page, len, at + page)) {
        if (full(errno)) return no_space(fd, size, path);
        return fail(Errc::io_error, -1, -1,
                    "cannot write " + path.string() + ": " + errno_message(errno));
      }
    }
  }
  return {};
}

std::atomic<std::uint64_t> temp_counter{0};

// A new file beside `path`, created exclusively (never an existing file or a
// planted symlink). Returns the descriptor and sets *temp.
Result<int> create_temp_beside(const std::filesystem::path& path, std::filesystem::path* temp) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    *temp = path.parent_path() / ("." + path.filename().string() + "." + std::to_string(getpid()) +
                                  "." + std::to_string(temp_counter++) + ".tmp");
    const int fd =
        ::open(temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST) {
      return fail(Errc::io_error, -1, -1,
                  "cannot create a file beside " + path.string() + ": " + errno_message(errno));
    }
  }
  return fail(Errc::io_error, -1, -1, "cannot find a free temporary name beside " + path.string());
}

Status write_sparse(int fd, std::span<const std::uint8_t> bytes,
                    const std::filesystem::path& path) {
  const auto failed = [&]() -> Status {
    if (full(errno)) return no_space(fd, bytes.size(), path);
    return fail(Errc::io_error, -1, -1,
                "cannot write " + path.string() + ": " + errno_message(errno));
  };
  if (ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) return failed();
  for (std::uint64_t at = 0; at < bytes.size(); at += kChunk) {
    const std::uint64_t n = std::min<std::uint64_t>(kChunk, bytes.size() - at);
    if (all_zero(bytes.data() + at, n)) continue;
    if (!pwrite_all(fd, bytes.data() + at, n, at)) return failed();
  }
  if (fsync(fd) != 0) return failed();
  return {};
}

// May `path` be replaced? Free names, and regular files not in `refuse`.
// *exists tells which.
Status may_replace(const std::filesystem::path& path, std::span<const FileId> refuse,
                   bool* exists) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      *exists = false;
      return {};
    }
    return fail(Errc::io_error, -1, -1,
                "cannot look at " + path.string() + ": " + errno_message(errno));
  }
  *exists = true;
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_argument, -1, -1,
                path.string() + " is " + kind_of(st.st_mode) +
                    "; an image is written only to a new name or over a regular file");
  }
  if (std::find(refuse.begin(), refuse.end(), FileId{st.st_dev, st.st_ino}) != refuse.end()) {
    return fail(
        Errc::invalid_argument, -1, -1,
        path.string() +
            " is the live NAND image itself (the file the device runs on); save to another path");
  }
  return {};
}

Status rename_into_place(const std::filesystem::path& temp, const std::filesystem::path& path,
                         bool exists) {
  if (!exists) {
    // The name was free when checked: claim it only if it still is.
    if (renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return {};
    if (errno == EEXIST) {
      return fail(Errc::invalid_argument, -1, -1,
                  path.string() + " appeared while the image was written; nothing replaced");
    }
    if (errno != EINVAL && errno != ENOSYS) {
      return fail(Errc::io_error, -1, -1,
                  "cannot rename onto " + path.string() + ": " + errno_message(errno));
    }
    // The file system has no RENAME_NOREPLACE: the lstat just made is the check.
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return fail(Errc::io_error, -1, -1,
                "cannot rename onto " + path.string() + ": " + errno_message(errno));
  }
  return {};
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);  // best effort: the data itself is synced already
  ::close(fd);
}

}  // namespace

Status check_path(const std::filesystem::path& path) {
  if (path.native().find('\0') != std::string::npos) {
    return fail(Errc::invalid_argument, -1, -1, "the path contains a NUL byte");
  }
  if (path.empty() || !path.has_filename()) {
    return fail(Errc::invalid_argument, -1, -1, "'" + path.string() + "' does not name a file");
  }
  return {};
}

Result<int> open_regular_for_read(const std::filesystem::path& path, std::uint64_t* size) {
  if (auto ok = check_path(path); !ok) return tl::unexpected(ok.error());
  // Look before opening: opening a device can have effects of its own.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return fail(Errc::io_error, -1, -1,
                "cannot open " + path.string() + ": " + errno_message(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::bad_image, -1, -1,
                path.string() + " is " + kind_of(st.st_mode) + ", not an image file");
  }
  // O_NONBLOCK: if the name was swapped for a FIFO since, open returns at once.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::io_error, -1, -1,
                "cannot open " + path.string() + ": " + errno_message(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::bad_image, -1, -1, path.string() + " is not a regular file");
  }
  *size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

Status reserve_blocks(int fd, std::uint64_t size, const std::filesystem::path& path) {
  // The image is mapped MAP_SHARED and stored to directly: a store to a page
  // the file system cannot allocate (disk full, quota) raises SIGBUS and
  // kills the process, with no error to report. So every block is allocated
  // before the mapping is used. This gives up the sparse file (the image
  // takes its full size on disk at once) for stores that cannot fail:
  // running out of disk later would lose the module, not just the space.
  // On copy-on-write file systems (btrfs) an overwrite can still need new
  // blocks; nothing short of nocow files covers that.
  int result = 0;
  do {
    result = ::fallocate(fd, 0, 0, static_cast<off_t>(size));
  } while (result != 0 && errno == EINTR);
  if (result == 0) return {};
  if (full(errno)) return no_space(fd, size, path);
  if (errno == EOPNOTSUPP || errno == ENOSYS) return fill_holes(fd, size, path);
  return fail(Errc::io_error, -1, -1,
              "cannot reserve disk space for " + path.string() + ": " + errno_message(errno));
}

Status write_file_replacing(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                            std::span<const FileId> refuse) {
  if (auto ok = check_path(path); !ok) return ok;
  bool exists = false;
  if (auto ok = may_replace(path, refuse, &exists); !ok) return ok;
  std::filesystem::path temp;
  auto fd = create_temp_beside(path, &temp);
  if (!fd) return tl::unexpected(fd.error());
  Status written = write_sparse(*fd, bytes, path);
  if (::close(*fd) != 0 && written) {
    written =
        fail(Errc::io_error, -1, -1, "cannot write " + path.string() + ": " + errno_message(errno));
  }
  // Looked at again right before the rename: the name may have been
  // replaced by something else (a symlink, a FIFO) while the copy was written.
  if (written) written = may_replace(path, refuse, &exists);
  if (written) written = rename_into_place(temp, path, exists);
  if (!written) {
    ::unlink(temp.c_str());
    return written;
  }
  sync_directory(path.parent_path());
  return {};
}

}  // namespace vmodem::nand::image_io
