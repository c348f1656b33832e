#include "campaign/module_state.hpp"

#include <xxhash.h>

#include "commands/file_support.hpp"

namespace vmodem::sim::campaign {

namespace {

constexpr std::uint64_t kDirectory = 0x6469725f646972ULL;  // any fixed value: not a file digest

std::uint64_t digest(const std::vector<std::uint8_t>& bytes) {
  // Seeded with the size: a truncation changes the digest however the bytes hash.
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), bytes.size());
}

// Records `dir` and everything under it but `skip`; false (with `error`) at
// the first read that fails.
bool walk(fs::FileSystem& fs, const std::string& dir, const std::string& skip, FsState& out) {
  auto entries = fs.readdir(dir);
  if (!entries) {
    out.error = "readdir " + dir + ": " + entries.error().message();
    return false;
  }
  for (const auto& entry : *entries) {
    const std::string path = (dir == "/" ? "/" : dir + "/") + entry.name;
    if (path == skip) continue;
    if (entry.type == fs::FileType::directory) {
      out.tree[path] = kDirectory;
      if (!walk(fs, path, skip, out)) return false;
      continue;
    }
    auto bytes = fs.read_file(path);
    if (!bytes) {
      out.error = "read " + path + ": " + bytes.error().message();
      return false;
    }
    out.tree[path] = digest(*bytes);
  }
  return true;
}

}  // namespace

ModuleState capture(Module& module) {
  ModuleState state;
  for (const FileSystemSpec& spec : module.profile().file_systems) {
    FsState& fs_state = state[spec.name];
    if (fs::SharedFileSystem* shared = module.file_system(spec.name)) {
      fs_state.mounted = true;
      // The firmware's staging directory of uploads in progress: what a cut
      // leaves there is no file the host can see (AT+QFLST, AT+QFDWL do not
      // reach it) and the next upload clears it.
      const std::string staging = spec.ufs ? "/" + std::string(files::kUploadDir) : "";
      (void)walk(*shared->lock(), "/", staging, fs_state);
    }
    if (spec.has_backup()) {
      if (auto report = module.backup_info(spec.name)) fs_state.backup = report->info;
    }
  }
  return state;
}

std::string tree_difference(const FsState& have, const FsState& want) {
  if (have.tree == want.tree) return {};  // the usual answer, without a lookup per path
  for (const auto& [path, sum] : want.tree) {
    const auto it = have.tree.find(path);
    if (it == have.tree.end()) return path + " missing";
    if (it->second != sum) return path + " changed";
  }
  for (const auto& [path, sum] : have.tree) {
    if (!want.tree.contains(path)) return path + " extra";
  }
  return {};
}

std::string untouched_lost(const FsState& have, const FsState& before, const FsState& after) {
  // Holding the whole state before or after the step, it lost nothing the
  // step left alone.
  if (have.tree == before.tree || have.tree == after.tree) return {};
  for (const auto& [path, sum] : before.tree) {
    const auto later = after.tree.find(path);
    if (later == after.tree.end() || later->second != sum) continue;  // the step touches it
    const auto now = have.tree.find(path);
    if (now == have.tree.end()) return path + " missing";
    if (now->second != sum) return path + " changed";
  }
  return {};
}

}  // namespace vmodem::sim::campaign
