// Building delta packages from two firmware bundles.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/fota/package.hpp>

namespace vmodem::fota {

struct GeneratorOptions {
  // Smallest packages: several matcher thresholds and the full codec search
  // (a few seconds per MB). false: one pass, one codec setting per stream.
  bool thorough = true;
  // Try Xtensa reference projection on images that look like ESP8266 firmware.
  bool xtensa_projection = true;
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
