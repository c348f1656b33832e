// Fuzzes parse_package() (both formats) and the whole apply path. Each
// input is tried as is (exercising the integrity checks) and resealed with
// correct digests (exercising header fields, patch parsing, control
// validation, stream decoders and the target digest check). Success is only allowed with a
// target that matches the package's own digests.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/memory_io.hpp>
#include <vmodem/fota/package.hpp>

#include "fuzz_fixture.hpp"
#include "package_format.hpp"

namespace vmodem::fota::fuzz {

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
  detail::reseal_package(package);
  fuzz::apply_once(package, source_fw);
  return 0;
}
