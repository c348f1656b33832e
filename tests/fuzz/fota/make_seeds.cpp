// Writes a handful of tiny valid packages for the fixture firmware.
#include <cstdio>
#include <filesystem>

#include <vmodem/fota/generator.hpp>

#include "fuzz_fixture.hpp"

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
  for (auto& [name, fw] : targets) {
    fw.version = "2.0";
    GeneratorOptions options;
    options.thorough = false;
    auto package = make_package(old_fw, fw, options);
    if (!package) {
      std::fprintf(stderr, "%s: %s\n", name, package.error().message.c_str());
      return 1;
    }
    if (auto st = write_file_atomic(dir / (std::string(name) + ".pkg"), package->bytes); !st)
      return 1;
    std::printf("%s: %zu bytes\n", name, package->bytes.size());
  }
  return 0;
}
