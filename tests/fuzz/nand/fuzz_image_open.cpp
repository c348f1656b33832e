// An image file is untrusted input: whatever its bytes, open_image either
// refuses it (bad_image / io_error) or yields a device whose pages can all be
// read without crashing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

namespace {

std::filesystem::path scratch_path() {
  return std::filesystem::temp_directory_path() /
         ("vmodem-fuzz-" + std::to_string(::getpid()) + ".img");
}

// A valid small image to graft the fuzz input onto, so mutations reach past
// the magic and version checks into geometry and layout validation.
const std::vector<std::uint8_t>& template_image() {
  static const std::vector<std::uint8_t> bytes = [] {
    const auto path = scratch_path();
    std::filesystem::remove(path);
    vmodem::nand::Geometry g;
    g.block_count = 2;
    g.pages_per_block = 4;
    vmodem::nand::StorageOptions options;
    options.deviation_slots = 64;
    {
      auto storage = vmodem::nand::Storage::create_image(path, g, options);
      if (!storage) {  // a full disk, say: no template, nothing to fuzz
        std::fprintf(stderr, "cannot make the template image at %s: %s\n", path.c_str(),
                     storage.error().message().c_str());
        std::abort();
      }
    }
    std::vector<std::uint8_t> image(std::filesystem::file_size(path));
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f) {
      (void)std::fread(image.data(), 1, image.size(), f);
      std::fclose(f);
    }
    std::filesystem::remove(path);
    return image;
  }();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> image = template_image();
  // The first bytes overwrite the header; a flag byte decides whether the
  // file keeps its full length or is cut to the input's length.
  const bool keep_length = size > 0 && (data[0] & 1);
  if (!keep_length) image.resize(std::min<std::size_t>(image.size(), size));
  std::memcpy(image.data(), data, std::min(size, image.size()));
  const auto path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(image.data(), 1, image.size(), f);
  std::fclose(f);
  auto storage = vmodem::nand::Storage::open_image(path, {}, /*read_only=*/true);
  if (storage) {
    vmodem::nand::SimulatedChip chip(**storage, {});
    const auto& g = (*storage)->geometry();
    std::vector<std::uint8_t> main(g.page_size), spare(g.spare_size);
    const std::uint32_t blocks = std::min<std::uint32_t>(g.block_count, 4);
    for (std::uint32_t b = 0; b < blocks; ++b) {
      for (std::uint32_t p = 0; p < std::min<std::uint32_t>(g.pages_per_block, 4); ++p) {
        (void)chip.read({b, p}, main, spare);
      }
    }
  }
  std::filesystem::remove(path);
  return 0;
}
