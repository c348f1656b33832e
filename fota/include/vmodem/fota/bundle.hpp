// Firmware bundles: a firmware version as a set of named images.
//
// A manifest is a small JSON file naming the version and its image files
// (paths relative to the manifest):
//
//   {
//     "model": "ESP8266-AT",
//     "version": "1.7.1",
//     "images": [ { "name": "app", "file": "esp8266-at-1.7.1.bin" } ]
//   }
//
// A plain image file is a one-image bundle (the image is named "firmware"
// unless the caller says otherwise), so `delta make OLD NEW` accepts either.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>

namespace vmodem::fota {

struct FirmwareImage {
  std::string name;
  std::vector<std::uint8_t> data;
};

struct FirmwareBundle {
  std::string model;    // product string the package is bound to
  std::string version;  // what ATI / AT+CGMR report
  std::vector<FirmwareImage> images;

  // The image named `name`, or nullptr.
  const FirmwareImage* find(std::string_view name) const;
};

// One image's identity as the firmware digest sees it.
struct ImageIdentity {
  std::string name;
  std::uint64_t size = 0;
  Digest digest{};
};

// The digest of a whole firmware: SHA-256 over its images sorted by name,
// each contributing u16 name length | name | u64 size | SHA-256(content),
// integers little-endian. Order-independent, so a manifest may list images
// in any order.
Digest firmware_digest(std::vector<ImageIdentity> images);
Digest firmware_digest(const FirmwareBundle& bundle);

// Defaults applied when loading a plain image file (a manifest states its own).
struct BundleDefaults {
  std::string model = "vmodem";
  std::string version;  // empty: the file name without extension
  std::string image_name = "firmware";
};

// A bundle as one file (`vmodem firmware build`), integers little-endian:
//   "VMFWBNDL" | u16 format (1) | str model | str version | u16 image count
//   | n x (str name | u64 size | 32 SHA-256) | 32 SHA-256 of the bytes before
//   | the images' bytes, in order
// (str = u16 length <= 64, then the bytes).
std::vector<std::uint8_t> serialize_bundle(const FirmwareBundle& bundle);
// kBadPackage if the file is damaged or truncated (header checksum, sizes,
// every image's SHA-256), kInvalidInput for bad names or limits.
Result<FirmwareBundle> parse_bundle(std::span<const std::uint8_t> file);
bool is_bundle_file(std::span<const std::uint8_t> data);

// Loads `path`: a manifest if it ends in ".json", a bundle file if it starts
// with the bundle magic, otherwise a single image.
// Errors: kIo (unreadable file), kInvalidInput (bad manifest, names, limits).
Result<FirmwareBundle> load_bundle(const std::filesystem::path& path,
                                   const BundleDefaults& defaults = {});

// Parses manifest text; image files are resolved against `base_dir`.
Result<FirmwareBundle> parse_manifest(std::string_view json_text,
                                      const std::filesystem::path& base_dir);

// Reads a whole file (kIo on failure, kInvalidInput beyond `max_bytes`).
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::uint64_t max_bytes);

// Writes `data` to `path` via a temporary file of its own (mkstemp) and a
// rename, so a crash never leaves a half-written file under the final name.
// Replaces only a regular file: a device, FIFO, directory or symlink at
// `path` is refused (kIo) and left alone.
Status write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> data);

// What write_bundle_directory does with a file name that exists already.
enum class ExistingFiles {
  replace,  // write beside it and rename over it (delta apply -o DIR, again)
  refuse,   // fail before writing anything (kIo, naming the file)
};

// Writes `bundle` as a manifest directory that load_bundle reads back:
// one file per image, named as the image ("image-" in front of a name that
// cannot be a file's: ".", "..", "manifest.json"), and manifest.json
// (model, version, images in the bundle's order). Creates `dir` if needed.
// kUnsupported when the model or version is not UTF-8 (JSON cannot hold
// it), kIo otherwise. Returns the files written, manifest.json last.
Result<std::vector<std::filesystem::path>> write_bundle_directory(const FirmwareBundle& bundle,
                                                                  const std::filesystem::path& dir,
                                                                  ExistingFiles existing);

}  // namespace vmodem::fota
