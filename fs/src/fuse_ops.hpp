// The FUSE operation table over a FileSystem (fuse.cpp).
#pragma once

#define FUSE_USE_VERSION 35
#include <cstdint>
#include <mutex>
#include <set>

#include <fuse3/fuse.h>

#include <vmodem/fs/shared.hpp>

namespace vmodem::fs::fuse_adapter {

// What the callbacks serve. `fs` is null while the owner has detached it (a
// module that lost power): every request then fails with EIO, so a host never
// writes into the directory under the mount point. Each attach starts a new
// generation; a FUSE file handle carries the generation it was opened in,
// and a handle from an earlier one fails with EIO instead of reaching a file
// the new instance happens to number the same.
struct Context {
  std::mutex mutex;  // held by every callback, then the file system's lock
  SharedFileSystem* fs = nullptr;
  bool read_only = false;
  std::uint32_t generation = 0;
  std::set<Handle> open;  // handles of this generation not yet released
};

const fuse_operations& operations();
int to_errno(Errc code);

}  // namespace vmodem::fs::fuse_adapter
