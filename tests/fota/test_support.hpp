// Shared helpers for the fota tests: corpus access, bundles, apply-in-memory.
#pragma once

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/memory_io.hpp>

#include "package_format.hpp"

namespace vmodem::fota::testing {

using Bytes = std::vector<std::uint8_t>;

inline const std::vector<std::string>& corpus_versions() {
  static const std::vector<std::string> versions{"1.7.0", "1.7.1", "1.7.4", "1.7.5"};
  return versions;
}

inline std::filesystem::path corpus_file(const std::string& version) {
  return std::filesystem::path(FOTA_CORPUS_DIR) / ("esp8266-at-" + version + ".bin");
}

// The corpus image of `version`, or nullopt (the caller skips) if missing.
inline std::optional<Bytes> corpus_image(const std::string& version) {
  auto data = read_file(corpus_file(version), kMaxImageBytes);
  if (!data) return std::nullopt;
  return *data;
}

#define FOTA_REQUIRE_CORPUS(var, version)                                                   \
  auto var##_opt = ::vmodem::fota::testing::corpus_image(version);                          \
  if (!var##_opt) {                                                                         \
    GTEST_SKIP() << "firmware corpus not found at " FOTA_CORPUS_DIR " (version " << version \
                 << ")";                                                                    \
  }                                                                                         \
  const Bytes& var = *var##_opt

inline FirmwareBundle single(Bytes data, std::string version, std::string name = "firmware",
                             std::string model = "TEST-MODEL") {
  FirmwareBundle b;
  b.model = std::move(model);
  b.version = std::move(version);
  b.images.push_back({std::move(name), std::move(data)});
  return b;
}

inline GeneratorOptions fast_options() {
  GeneratorOptions o;
  o.thorough = false;
  o.verify = false;  // the tests apply the package themselves
  return o;
}

// Deterministic pseudo-random bytes (seeded; the seed is the test's to print).
inline Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out)
    b = static_cast<std::uint8_t>(rng());
  return out;
}

// Applies `package` to `old_fw` entirely in memory.
inline Result<FirmwareBundle> apply_in_memory(const Bytes& package, const FirmwareBundle& old_fw,
                                              ApplyOptions options = {}) {
  BundleSource source(old_fw);
  auto applier = Applier::open(package, source, std::move(options));
  if (!applier) return tl::unexpected(applier.error());
  BundleSink sink;
  if (auto st = (*applier)->run(sink); !st) return tl::unexpected(st.error());
  return sink.bundle();
}

inline Bytes make_or_die(const FirmwareBundle& old_fw, const FirmwareBundle& new_fw,
                         const GeneratorOptions& options = fast_options()) {
  auto package = make_package(old_fw, new_fw, options);
  EXPECT_TRUE(package.has_value()) << (package ? "" : package.error().message);
  return package ? package->bytes : Bytes{};
}

}  // namespace vmodem::fota::testing

namespace vmodem::fota::testing {

// Recomputes a (mutated) package's digests (either format) so that the
// mutation reaches the deeper checks instead of failing the checksum.
inline void reseal(Bytes& package) {
  detail::reseal_package(package);
}

}  // namespace vmodem::fota::testing
