// Building delta packages from two firmware bundles.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/fota/package.hpp>

namespace vmodem::fota {

// Which instruction set's references the generator may project (see
// fota/FORMAT.md, patch algorithms 2 and 3). Whatever is chosen, a patch
// without projection is tried as well and the smaller one kept.
enum class Architecture : std::uint8_t {
  kAuto,     // every ISA the image is recognised as (ESP8266 header, Cortex-M vectors)
  kNone,     // plain bsdiff only
  kXtensa,   // ESP8266 images only
  kThumb2,   // ARM Cortex-M (raw .bin with its vector table, or a named load address)
  kAarch64,  // AArch64 raw images (A64 code detected, or named; see load_address)
};

struct GeneratorOptions {
  // Smallest packages: several matcher thresholds and the full codec search
  // (a few seconds per MB). false: one pass, one codec setting per stream.
  bool thorough = true;
  // Reference projections to try on images that look like that ISA's firmware.
  Architecture architecture = Architecture::kAuto;
  // Thumb-2: the CPU address the images are loaded at, for images whose
  // vector table does not say (nullopt: detect it from the vector table).
  // AArch64: the load address lets aligned pointers be projected too
  // (nullopt: PC-relative references only).
  std::optional<std::uint32_t> load_address;
  // The container: kFormatVersion2 (compact), or kFormatVersion1 for
  // appliers that predate format 2.
  std::uint16_t format_version = kFormatVersion;
  // Apply the finished package in memory and compare before returning it.
  bool verify = true;
  // Progress, after each image's patch (may be empty): the per mille of the
  // new firmware's bytes encoded so far.
  std::function<void(int per_mille)> on_progress;
};

struct ImageStats {
  std::string name;
  std::uint64_t source_size = 0;
  std::uint64_t target_size = 0;
  std::uint64_t patch_size = 0;
  PatchAlgorithm algorithm = PatchAlgorithm::kNone;
  int min_gain = 0;  // the matcher threshold that won
  std::uint64_t control_raw = 0, diff_raw = 0, extra_raw = 0;
  std::uint64_t control_packed = 0, diff_packed = 0, extra_packed = 0;
};

struct GeneratorStats {
  std::uint64_t package_size = 0;
  std::uint64_t header_size = 0;
  double seconds = 0;
  std::vector<ImageStats> images;
};

struct GeneratedPackage {
  std::vector<std::uint8_t> bytes;
  GeneratorStats stats;
};

// Makes the package that turns `old_fw` into `new_fw`. Images are matched by
// name: present in both -> patched; only in new -> patched from an empty
// source; only in old -> removed. The package is bound to old_fw.model, which
// must equal new_fw.model. Errors: kInvalidInput (bad bundles or limits),
// kUnpackFailed (verification failed: a generator bug, never expected).
Result<GeneratedPackage> make_package(const FirmwareBundle& old_fw, const FirmwareBundle& new_fw,
                                      const GeneratorOptions& options = {});

}  // namespace vmodem::fota
