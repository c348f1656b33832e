// Writes a handful of tiny valid packages for the fixture firmware, in the
// generator's current package format: NAME-vFORMAT.pkg (the corpus keeps
// the seeds of earlier formats and codecs beside them).
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/package.hpp>

#include "fuzz_fixture.hpp"

namespace {

// A region table of one region: the whole image at CPU address 0.
void put_whole_image_region(std::vector<std::uint8_t>& out, std::uint32_t size) {
  out.push_back(1);
  for (const std::uint32_t v : {0u, size, 0u})
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The "identical" package turned into a projecting one (patch algorithm 3,
// Thumb-2, or 4, AArch64): with an identity alignment the projection
// changes nothing, so the package is valid, and the fuzzer starts from a
// patch whose region tables and instruction sweep it can mutate (the
// fixture is neither ISA's image, so the generator would never choose the
// projection itself).
std::optional<std::vector<std::uint8_t>> projected_seed(const std::vector<std::uint8_t>& identical,
                                                        vmodem::fota::PatchAlgorithm algorithm) {
  using namespace vmodem::fota;
  auto header = parse_package(identical);
  if (!header || header->images.size() != 1) return std::nullopt;
  auto& image = header->images[0];
  const auto patch = patch_bytes(identical, *header, image);
  std::vector<std::uint8_t> payload;
  put_whole_image_region(payload, static_cast<std::uint32_t>(image.source_size));
  put_whole_image_region(payload, static_cast<std::uint32_t>(image.target_size));
  payload.insert(payload.end(), patch.begin(), patch.end());
  image.algorithm = algorithm;
  image.patch_offset = 0;
  image.patch_length = payload.size();
  auto package = serialize_package(*header, payload);
  if (!package) return std::nullopt;
  return *package;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vmodem::fota;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fota_seeds <corpus dir>\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const FirmwareBundle old_fw = fuzz::source_firmware();
  std::vector<std::pair<const char*, FirmwareBundle>> targets;
  auto edited = old_fw;
  edited.images[0].data[100] ^= 0x55;
  edited.images[0].data.insert(edited.images[0].data.begin() + 1500, 20, 0xAA);
  targets.emplace_back("edit", edited);
  auto identical = old_fw;
  targets.emplace_back("identical", identical);
  auto empty = old_fw;
  empty.images[0].data.clear();
  targets.emplace_back("empty", empty);
  auto two = old_fw;
  two.images.push_back({"extra", std::vector<std::uint8_t>(300, 0x42)});
  targets.emplace_back("two-images", two);
  auto renamed = old_fw;
  renamed.images[0].name = "other";  // removes "firmware", adds "other"
  targets.emplace_back("renamed", renamed);
  const std::string suffix = "-v" + std::to_string(kFormatVersion);
  for (auto& [name, fw] : targets) {
    fw.version = "2.0";
    GeneratorOptions options;
    options.thorough = false;
    auto package = make_package(old_fw, fw, options);
    if (!package) {
      std::fprintf(stderr, "%s: %s\n", name, package.error().message.c_str());
      return 1;
    }
    if (auto st = write_file_atomic(dir / (name + suffix + ".pkg"), package->bytes); !st) return 1;
    std::printf("%s%s: %zu bytes\n", name, suffix.c_str(), package->bytes.size());
    if (std::string_view(name) != "identical") continue;
    for (const auto& [isa, algorithm] : {std::pair{"thumb2", PatchAlgorithm::kBsdiffThumb2},
                                         std::pair{"aarch64", PatchAlgorithm::kBsdiffAarch64}}) {
      const auto seed = projected_seed(package->bytes, algorithm);
      const std::string file = std::string("identical-") + isa + suffix + ".pkg";
      if (!seed || !write_file_atomic(dir / file, *seed)) return 1;
      std::printf("%s: %zu bytes\n", file.c_str(), seed->size());
    }
  }
  return 0;
}
