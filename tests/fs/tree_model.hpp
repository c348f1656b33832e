// The whole visible tree of a file system as a value, for comparisons.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/fs/filesystem.hpp>

namespace vmodem::fs::testing {

// path -> content (nullopt for a directory). The root is not listed.
using Tree = std::map<std::string, std::optional<std::vector<std::uint8_t>>>;

inline Status walk(FileSystem& fs, const std::string& dir, Tree& out) {
  auto entries = fs.readdir(dir.empty() ? "/" : dir);
  if (!entries) return tl::unexpected(entries.error());
  for (const auto& e : *entries) {
    const std::string path = dir + "/" + e.name;
    if (e.type == FileType::directory) {
      out[path] = std::nullopt;
      if (auto ok = walk(fs, path, out); !ok) return ok;
    } else {
      auto data = fs.read_file(path);
      if (!data) return tl::unexpected(data.error());
      out[path] = std::move(*data);
    }
  }
  return {};
}

inline Result<Tree> snapshot_tree(FileSystem& fs) {
  Tree tree;
  if (auto ok = walk(fs, "", tree); !ok) return tl::unexpected(ok.error());
  return tree;
}

inline std::string describe(const Tree& tree) {
  std::string s;
  for (const auto& [path, content] : tree) {
    s += "  " + path + (content ? " (" + std::to_string(content->size()) + " B)" : "/") + "\n";
  }
  return s;
}

}  // namespace vmodem::fs::testing
