// File-level operations behind `vmodem delta make|info|apply`.
//
// OLD and NEW may each be a single image file or a manifest (bundle.hpp).
// These functions do the file handling and return data the CLI prints; they
// never print or exit themselves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/generator.hpp>

namespace vmodem::fota {

struct MakeOptions {
  // The model is used for plain image files only (a manifest carries its
  // own). A version given here replaces a manifest's; empty: the manifest's,
  // or a plain file's name without extension.
  std::string model = "vmodem";
  std::string old_version;
  std::string new_version;
  std::string image_name = "firmware";
  GeneratorOptions generator;
};

// Builds the package old -> new and writes it to `out` (atomically).
Result<GeneratorStats> make(const std::filesystem::path& old_path,
                            const std::filesystem::path& new_path, const std::filesystem::path& out,
                            const MakeOptions& options = {});

// Describes a package: format, model, versions, digests, images. Fully
// verifies it first (kBadPackage / kUnsupported like the applier). An
// application package (app_package.hpp) is described by its to_json()
// ("kind": "app").
Result<nlohmann::json> info(const std::filesystem::path& package);

// The header as JSON (what info() returns for a verified package).
nlohmann::json to_json(const PackageHeader& header);
nlohmann::json to_json(const GeneratorStats& stats);

struct ApplyFileOptions {
  ApplyOptions apply;  // chunk size, limits, expected model, progress callback
};

struct ApplyResult {
  std::string model;
  std::string source_version;
  std::string target_version;
  std::uint64_t bytes_written = 0;
  std::vector<std::filesystem::path> written;  // files created
};

// Applies `package` to the firmware at `old_path`. If the package has a
// single image and `old_path` is a plain file, `out` is the new image file;
// otherwise `out` is a directory that receives one file per image plus a
// manifest.json. Nothing is created unless the whole update verified.
// The package must be for the old firmware as a module checks at boot: its
// model (options.apply.expected_model if set, else the manifest's or
// bundle's; a plain image file has none), its version and its firmware
// digest (kFirmwareMismatch). A model or version that is not UTF-8 cannot go
// into manifest.json: kUnsupported, before anything is written.
Result<ApplyResult> apply(const std::filesystem::path& old_path,
                          const std::filesystem::path& package, const std::filesystem::path& out,
                          const ApplyFileOptions& options = {});

}  // namespace vmodem::fota
