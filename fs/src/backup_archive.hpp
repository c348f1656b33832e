// The backup image (private): a file-level archive of a file system's tree.
//
// Uncompressed archive: "VBKA" magic, version, entry count; per entry (tree
// pre-order, so parents come first): type (1 file, 2 directory), mode, path
// length + path, size + bytes (files); then a CRC-32 of all of it. The image
// stored in the data partition is [raw length: u32][zlib stream].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <vmodem/fs/filesystem.hpp>

namespace vmodem::fs::backup_detail {

struct ArchiveEntry {
  FileType type = FileType::file;
  std::uint32_t mode = 0;
  std::string path;
  std::vector<std::uint8_t> data;
};

struct Archive {
  std::vector<ArchiveEntry> entries;
  std::uint32_t files() const;
};

// Reads the committed tree of a mounted file system.
Result<Archive> read_tree(FileSystem& fs);
// Serializes and compresses.
Result<std::vector<std::uint8_t>> encode_image(const Archive& archive, int level);
// Decompresses and checks (corrupt on any inconsistency).
Result<Archive> decode_image(const std::vector<std::uint8_t>& image);
// Recreates the tree in a freshly formatted, mounted file system and syncs.
Status write_tree(FileSystem& fs, const Archive& archive);

}  // namespace vmodem::fs::backup_detail
