// The FUSE operation table over a FileSystem (fuse.cpp).
#pragma once

#define FUSE_USE_VERSION 35
#include <fuse3/fuse.h>

#include <vmodem/fs/filesystem.hpp>

namespace vmodem::fs::fuse_adapter {

struct Context {
  FileSystem* fs = nullptr;
  bool read_only = false;
};

const fuse_operations& operations();
int to_errno(Errc code);

}  // namespace vmodem::fs::fuse_adapter
