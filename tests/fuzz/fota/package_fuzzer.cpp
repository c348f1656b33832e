// Fuzzes parse_package() and the whole apply path. Each input is tried as
// is (exercising the integrity checks) and resealed with correct digests
// (exercising header fields, patch parsing, control validation, stream
// decoders and the target digest check). Success is only allowed with a
// target that matches the package's own digests.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/memory_io.hpp>
#include <vmodem/fota/package.hpp>

#include "fuzz_fixture.hpp"

namespace vmodem::fota::fuzz {

void reseal(std::vector<std::uint8_t>& package) {
  if (package.size() < 24) return;
  std::uint32_t header_length = 0;
  for (int i = 0; i < 4; ++i)
    header_length |= std::uint32_t{package[12 + i]} << (8 * i);
  if (header_length < 64 || header_length > package.size()) return;
  const Digest payload = sha256(std::span(package).subspan(header_length));
  std::copy(payload.begin(), payload.end(), package.begin() + header_length - 64);
  const Digest header = sha256(std::span(package).first(header_length - 32));
  std::copy(header.begin(), header.end(), package.begin() + header_length - 32);
}

namespace {

void apply_once(const std::vector<std::uint8_t>& package, const FirmwareBundle& source_fw) {
  BundleSource source(source_fw);
  ApplyOptions options;
  options.chunk_size = 512;
  options.max_target_bytes = 1 << 20;  // keeps hostile sizes from allocating much
  auto applier = Applier::open(package, source, options);
  if (!applier) return;
  BundleSink sink;
  if (!(*applier)->run(sink)) return;
  for (const auto& image : (*applier)->header().images) {
    if (!image.has_target) continue;
    const auto* produced = sink.bundle().find(image.name);
    if (produced == nullptr || sha256(produced->data) != image.target_digest) __builtin_trap();
  }
}

}  // namespace
}  // namespace vmodem::fota::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vmodem::fota;
  static const FirmwareBundle source_fw = fuzz::source_firmware();
  std::vector<std::uint8_t> package(data, data + size);
  (void)parse_package(package);
  (void)ApplyProgress::deserialize(package);
  fuzz::apply_once(package, source_fw);
  fuzz::reseal(package);
  fuzz::apply_once(package, source_fw);
  return 0;
}
