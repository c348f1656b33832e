// FUSE (libfuse3) adapter: a mounted FileSystem exposed at a host directory.
//
// Every FUSE request goes through the same FileSystem calls the module uses,
// so a host `cp` costs NAND operations and can be torn by a power cut.
// Callbacks run on one FUSE thread and hold the file system's lock
// (SharedFileSystem): other threads reach the same instance through it too.
// A file written through the mount is committed when the host closes it
// (FUSE release), like close() in the FileSystem API.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <vmodem/fs/shared.hpp>

namespace vmodem::fs {

struct FuseOptions {
  bool read_only = false;
  bool debug = false;        // libfuse request log on stderr
  bool allow_other = false;  // other users may access the mount (needs fuse.conf)
  std::string fs_name = "vmodem";
};

// True when this build has libfuse3 and /dev/fuse can be opened; otherwise
// false with the reason in `why` (e.g. "built without libfuse3",
// "/dev/fuse: Permission denied").
bool fuse_available(std::string* why = nullptr);

// A vmodem mount at `dir` whose server died (a daemon killed with SIGKILL
// leaves its mounts behind: every access fails with "Transport endpoint is
// not connected" and nothing can be mounted there) is detached lazily.
// Only a dead mount of vmodem's own type (fuse.vmodemfs) is touched: a live
// one, another file system's or a plain directory is left as it is.
// Returns true when a dead mount was detached.
bool clear_dead_mount(const std::filesystem::path& dir);

// Mounts `fs` at `dir` and serves requests in the calling thread until the
// directory is unmounted (fusermount3 -u DIR) or SIGINT/SIGTERM arrives.
// Errors: unsupported (no FUSE), io_error (mount refused, message from
// libfuse).
Status mount(SharedFileSystem& fs, const std::filesystem::path& dir,
             const FuseOptions& options = {});

// A mount served on a background thread (the simulator mounts live).
class FuseMount {
 public:
  // Returns once the mount is in place. Errors as for mount().
  static Result<std::unique_ptr<FuseMount>> start(SharedFileSystem& fs,
                                                  const std::filesystem::path& dir,
                                                  const FuseOptions& options = {});
  ~FuseMount();  // stop()
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Unmounts and joins the thread. Idempotent.
  Status stop();

  // Takes the file system away while the mount stays in place (a module that
  // lost power): from return on, no request touches it and every request,
  // including one on a file opened before, fails with EIO, so nothing a host
  // writes lands in the directory under the mount point. With
  // `release_open_files`, files the host still has open are closed first
  // (committed), as an unmount would (an orderly power-off). Idempotent.
  // Must not be called with the file system's lock held.
  void detach(bool release_open_files);
  // Serves `fs` from now on (the same or a new instance after a reboot; its
  // read-only flag is the one the mount started with). Files opened before
  // the detach stay dead (EIO).
  void attach(SharedFileSystem& fs);
  bool attached() const;
  const std::filesystem::path& dir() const;
  bool running() const;

  struct State;

 private:
  explicit FuseMount(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vmodem::fs
