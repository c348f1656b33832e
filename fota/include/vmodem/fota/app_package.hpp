// Application packages: a delta package whose targets are files of a user
// file system (QuecPython's /usr) rather than firmware images. fota/FORMAT.md
// ("Application package") is the normative byte layout; the patch of each
// changed or added file is the firmware packages' image patch (the same
// codec, generator and decoder), so only the container is new.
//
// A package lists only what changes between two trees: files added (no
// source), changed (source and target) and removed (no target), each with
// its size and SHA-256, so an applier can tell, file by file, whether it
// holds the old or the new content before it writes anything.
//
// Paths are the application's names, "/usr/<path>": never empty, ".", ".."
// or a control character in a component; anything else (a /bak path, a
// relative path) makes the package malformed (kBadPackage).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/fota/package.hpp>

namespace vmodem::fota {

inline constexpr std::array<std::uint8_t, 8> kAppPackageMagic = {'V', 'M', 'A',  'P',
                                                                 'P', 'F', '\r', '\n'};
inline constexpr std::uint8_t kAppFormatVersion = 1;
inline constexpr std::size_t kMaxAppFiles = 4096;
inline constexpr std::size_t kMaxAppPathBytes = 1024;
inline constexpr std::size_t kMaxAppComponentBytes = 255;
// Every path of a package starts with this.
inline constexpr std::string_view kAppRoot = "/usr";

// A file's identity in a package: the first 8 bytes of its SHA-256. As the
// packages' trailing check, it tells which of two contents a file holds
// (old, new or another), against accident, not an attacker; 24 bytes per
// file fewer than the whole digest, in a package of small edits.
using FileDigest = std::array<std::uint8_t, 8>;
FileDigest file_digest(ByteView data);

// One file of a tree, as the generator takes it: path "/usr/<path>".
struct AppFile {
  std::string path;
  std::vector<std::uint8_t> data;
};

struct AppPackageFile {
  std::string path;  // "/usr/<path>"
  bool has_source = false;
  bool has_target = false;
  std::uint64_t source_size = 0;
  FileDigest source_digest{};
  std::uint64_t target_size = 0;
  FileDigest target_digest{};
  PatchAlgorithm algorithm = PatchAlgorithm::kNone;
  std::uint64_t patch_offset = 0;  // within the payload
  std::uint64_t patch_length = 0;

  bool added() const { return !has_source && has_target; }
  bool removed() const { return has_source && !has_target; }
};

struct AppPackage {
  std::string model;                  // the module it is for (the profile's model)
  std::vector<AppPackageFile> files;  // sorted by path, unique
  Digest package_id{};                // SHA-256 of every byte before the check
  std::uint64_t header_length = 0;
  std::uint64_t payload_length = 0;
};

// True when `data` starts with the application package magic.
bool is_app_package(ByteView data);

// True for "/usr/<c>[/<c>...]": UTF-8, components of 1..255 bytes, none
// ".", ".." or holding a NUL, '\\' or a control character; at most 1024
// bytes.
bool valid_app_path(std::string_view path);

// True when `bytes` are UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view bytes);

// Parses and fully verifies a package held in memory: magic, format,
// the trailing check, every path, size and patch program (so an applier
// learns of a damaged package before it writes). kBadPackage (corrupt,
// truncated, a path outside /usr), kUnsupported (format, flags, algorithm).
Result<AppPackage> parse_app_package(ByteView package);

struct AppMakeOptions {
  bool thorough = true;  // the full codec search (GeneratorOptions::thorough)
  bool verify = true;    // apply every patch in memory before returning
};

struct AppMakeStats {
  std::uint64_t package_size = 0;
  std::uint32_t added = 0, changed = 0, removed = 0, unchanged = 0;
  double seconds = 0;
};

// The package that turns the tree `old_files` into `new_files` for `model`
// (files matched by path; identical ones are left out). Errors:
// kInvalidInput (a bad path or model, a duplicate, too many files, nothing
// changed), kUnpackFailed (verification failed: a generator bug).
Result<std::vector<std::uint8_t>> make_app_package(std::string_view model,
                                                   const std::vector<AppFile>& old_files,
                                                   const std::vector<AppFile>& new_files,
                                                   const AppMakeOptions& options = {},
                                                   AppMakeStats* stats = nullptr);

// The new content of `file` (one of `header`'s, with a target) from its old
// content `source` (empty for an added file). kFirmwareMismatch when
// `source` is not the package's source (size or digest), kUnpackFailed when
// the result does not match the target's digest.
Result<std::vector<std::uint8_t>> app_file_target(ByteView package, const AppPackage& header,
                                                  const AppPackageFile& file, ByteView source);

// What `vmodem delta info` prints for an application package.
nlohmann::json to_json(const AppPackage& package);

}  // namespace vmodem::fota
