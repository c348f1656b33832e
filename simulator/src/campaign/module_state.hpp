// What a campaign compares after a cut: each file system's tree (every path
// with a digest of its bytes) and its backup record, read from a running
// module.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <vmodem/fs/backup.hpp>
#include <vmodem/simulator/module.hpp>

namespace vmodem::sim::campaign {

struct FsState {
  bool mounted = false;
  std::string error;                          // a read that failed while recording
  std::map<std::string, std::uint64_t> tree;  // path -> digest of the bytes ("dir" for directories)
  std::optional<fs::BackupInfo> backup;       // nullopt: no backup partitions
};
// By the profile's file-system name ("modem", "ap", ...).
using ModuleState = std::map<std::string, FsState>;

// Reads every file system of the module (mounted ones; NAND reads happen).
ModuleState capture(Module& module);

// The first way `have` differs from `want`: "/a.txt missing", "/b extra",
// "/c changed"; empty when the trees are equal.
std::string tree_difference(const FsState& have, const FsState& want);

// Paths whose content is the same in `before` and `after` (the step in
// flight did not touch them) but different or missing in `have`: what a
// cut must never lose. Empty when none.
std::string untouched_lost(const FsState& have, const FsState& before, const FsState& after);

}  // namespace vmodem::sim::campaign
