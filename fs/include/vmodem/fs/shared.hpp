// A file system that several threads use: the module's io thread (AT file
// commands, backups, NV settings), its FUSE threads and the control socket.
//
// A FileSystem is single-threaded. SharedFileSystem owns one together with
// its lock and is the only way to reach it: an Access holds the lock for as
// long as it lives, so a sequence of calls (check, then open; statfs, then
// reserve) runs as one. Lock order: a file system's lock before the flash's
// (nand::SharedDevice), never the other way round; two file systems' locks
// only in the order of the profile's file-system list.
#pragma once

#include <memory>

#include <vmodem/fs/config.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/thread_safety.hpp>

namespace vmodem::fs {

class SharedFileSystem {
 public:
  explicit SharedFileSystem(std::unique_ptr<FileSystem> fs)
      : config_(fs->config()), fs_(std::move(fs)) {}

  // The file system, with its lock held until the Access is destroyed. Not
  // recursive: no second Access of the same file system on the thread
  // meanwhile (it would wait for ever).
  class Access {
   public:
    explicit Access(SharedFileSystem& shared) : lock_(shared.mutex_), fs_(*shared.unguarded()) {}
    Access(const Access&) = delete;
    Access& operator=(const Access&) = delete;
    FileSystem* operator->() const { return &fs_; }
    FileSystem& operator*() const { return fs_; }

   private:
    nand::MutexLock lock_;
    FileSystem& fs_;
  };
  Access lock() { return Access(*this); }

  // Fixed at mount: readable without the lock.
  const Config& config() const { return config_; }

 private:
  // Only for Access, which takes the lock first.
  FileSystem* unguarded() VMODEM_NO_THREAD_SAFETY_ANALYSIS { return fs_.get(); }

  const Config config_;
  nand::Mutex mutex_;
  std::unique_ptr<FileSystem> fs_ VMODEM_PT_GUARDED_BY(mutex_);
};

}  // namespace vmodem::fs
