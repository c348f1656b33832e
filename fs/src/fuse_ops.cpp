// FUSE callbacks: each one takes the FileSystem lock, calls the FileSystem
// API and maps its error to an errno.
#include "fuse_ops.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

namespace vmodem::fs::fuse_adapter {

int to_errno(Errc code) {
  switch (code) {
    case Errc::not_found:
      return ENOENT;
    case Errc::exists:
      return EEXIST;
    case Errc::not_dir:
      return ENOTDIR;
    case Errc::is_dir:
      return EISDIR;
    case Errc::not_empty:
      return ENOTEMPTY;
    case Errc::invalid_name:
      return EINVAL;
    case Errc::name_too_long:
      return ENAMETOOLONG;
    case Errc::no_space:
      return ENOSPC;
    case Errc::file_too_large:
      return EFBIG;
    case Errc::too_many_open:
      return EMFILE;
    case Errc::bad_handle:
      return EBADF;
    case Errc::busy:
      return EBUSY;
    case Errc::invalid_argument:
      return EINVAL;
    case Errc::read_only:
      return EROFS;
    case Errc::unsupported:
      return ENOTSUP;
    case Errc::io_error:
    case Errc::corrupt:
    case Errc::power_loss:
    case Errc::check_failed:
      return EIO;
  }
  return EIO;
}

namespace {

Context& ctx() {
  return *static_cast<Context*>(fuse_get_context()->private_data);
}

// A callback's hold on the served file system: the context lock, then the
// file system's own lock. `fs` is null (and the caller returns -EIO) while
// the file system is detached.
class Serving {
 public:
  Serving() : context_(ctx()), lock_(context_.mutex) {
    if (context_.fs) fs_lock_.emplace(*context_.fs);
  }
  FileSystem* fs() const { return fs_lock_ ? &**fs_lock_ : nullptr; }
  Context& context() const { return context_; }
  // The file system's handle behind a FUSE handle, if it is of this generation.
  std::optional<Handle> handle(const fuse_file_info* fi) const {
    if (!context_.fs || (fi->fh >> 32) != context_.generation) return std::nullopt;
    return static_cast<Handle>(fi->fh & 0xFFFFFFFFU);
  }
  void opened(Handle h, fuse_file_info* fi) const {
    context_.open.insert(h);
    fi->fh = (std::uint64_t{context_.generation} << 32) | h;
  }

 private:
  Context& context_;
  std::lock_guard<std::mutex> lock_;
  std::optional<SharedFileSystem::Access> fs_lock_;
};

template <class T>
int status(const Result<T>& r) {
  return r ? 0 : -to_errno(r.error().code);
}

void fill_stat(const Stat& s, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  const bool dir = s.type == FileType::directory;
  const mode_t perm = s.mode ? (s.mode & 07777) : (dir ? 0755 : 0644);
  st->st_mode = (dir ? S_IFDIR : S_IFREG) | perm;
  st->st_nlink = dir ? 2 : 1;
  st->st_size = static_cast<off_t>(s.size);
  st->st_blksize = 2048;
  st->st_blocks = static_cast<blkcnt_t>((s.size + 511) / 512);
  st->st_mtime = s.mtime;
  st->st_ctime = s.mtime;
  st->st_atime = s.mtime;
  st->st_ino = s.id;
  st->st_uid = getuid();
  st->st_gid = getgid();
}

int op_getattr(const char* path, struct stat* st, fuse_file_info*) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  auto s = serving.fs()->stat(path);
  if (s) fill_stat(*s, st);
  return status(s);
}

int op_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
               fuse_readdir_flags) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  auto entries = serving.fs()->readdir(path);
  if (!entries) return status(entries);
  fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  for (const auto& e : *entries)
    fill(buf, e.name.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  return 0;
}

int op_mkdir(const char* path, mode_t mode) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  return status(serving.fs()->mkdir(path, mode & 07777));
}

int op_rmdir(const char* path) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  return status(serving.fs()->rmdir(path));
}

int op_unlink(const char* path) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  return status(serving.fs()->unlink(path));
}

int op_rename(const char* from, const char* to, unsigned int flags) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  if (flags & RENAME_EXCHANGE) return -EINVAL;
  if ((flags & RENAME_NOREPLACE) && serving.fs()->stat(to)) return -EEXIST;
  return status(serving.fs()->rename(from, to));
}

std::uint32_t open_flags(int flags) {
  std::uint32_t f = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      f = kRead;
      break;
    case O_WRONLY:
      f = kWrite;
      break;
    default:
      f = kReadWrite;
      break;
  }
  if (flags & O_TRUNC) f |= kTruncate;
  if (flags & O_APPEND) f |= kAppend;
  if (flags & O_CREAT) f |= kCreate;
  if (flags & O_EXCL) f |= kExclusive;
  return f;
}

int op_open(const char* path, fuse_file_info* fi) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  auto h = serving.fs()->open(path, open_flags(fi->flags));
  if (h) serving.opened(*h, fi);
  return status(h);
}

int op_create(const char* path, mode_t mode, fuse_file_info* fi) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  auto h = serving.fs()->open(path, open_flags(fi->flags) | kCreate | kWrite, mode & 07777);
  if (h) serving.opened(*h, fi);
  return status(h);
}

int op_read(const char*, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  const Serving serving;
  const auto h = serving.handle(fi);
  if (!h) return -EIO;
  auto n = serving.fs()->pread(*h, {reinterpret_cast<std::uint8_t*>(buf), size},
                               static_cast<std::uint64_t>(offset));
  return n ? static_cast<int>(*n) : status(n);
}

int op_write(const char*, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  const Serving serving;
  const auto h = serving.handle(fi);
  if (!h) return -EIO;
  auto n = serving.fs()->pwrite(*h, {reinterpret_cast<const std::uint8_t*>(buf), size},
                                static_cast<std::uint64_t>(offset));
  return n ? static_cast<int>(*n) : status(n);
}

int op_truncate(const char* path, off_t size, fuse_file_info* fi) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  if (size < 0) return -EINVAL;
  const auto n = static_cast<std::uint64_t>(size);
  if (fi) {
    const auto h = serving.handle(fi);
    return h ? status(serving.fs()->truncate(*h, n)) : -EIO;
  }
  return status(serving.fs()->truncate(std::string_view(path), n));
}

int op_release(const char*, fuse_file_info* fi) {
  const Serving serving;
  const auto h = serving.handle(fi);
  if (!h) return -EIO;  // its file system went away with the power
  serving.context().open.erase(*h);
  return status(serving.fs()->close(*h));
}

int op_fsync(const char*, int, fuse_file_info* fi) {
  const Serving serving;
  const auto h = serving.handle(fi);
  return h ? status(serving.fs()->fsync(*h)) : -EIO;
}

int op_statfs(const char*, struct statvfs* st) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  auto s = serving.fs()->statfs();
  if (!s) return status(s);
  std::memset(st, 0, sizeof *st);
  st->f_bsize = st->f_frsize = s->page_size;
  st->f_blocks = s->total_bytes / s->page_size;
  st->f_bfree = st->f_bavail = s->free_bytes / s->page_size;
  st->f_namemax = serving.fs()->config().max_name;
  return 0;
}

// Times and ownership are not stored; accept so cp -p, touch and friends work.
int op_utimens(const char* path, const timespec*, fuse_file_info*) {
  const Serving serving;
  if (!serving.fs()) return -EIO;
  return status(serving.fs()->stat(path));
}
int op_chmod(const char* path, mode_t, fuse_file_info*) {
  return op_utimens(path, nullptr, nullptr);
}
int op_chown(const char* path, uid_t, gid_t, fuse_file_info*) {
  return op_utimens(path, nullptr, nullptr);
}

fuse_operations make_operations() {
  fuse_operations ops{};
  ops.getattr = op_getattr;
  ops.readdir = op_readdir;
  ops.mkdir = op_mkdir;
  ops.rmdir = op_rmdir;
  ops.unlink = op_unlink;
  ops.rename = op_rename;
  ops.open = op_open;
  ops.create = op_create;
  ops.read = op_read;
  ops.write = op_write;
  ops.truncate = op_truncate;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.statfs = op_statfs;
  ops.utimens = op_utimens;
  ops.chmod = op_chmod;
  ops.chown = op_chown;
  return ops;
}

}  // namespace

const fuse_operations& operations() {
  static const fuse_operations ops = make_operations();
  return ops;
}

}  // namespace vmodem::fs::fuse_adapter
