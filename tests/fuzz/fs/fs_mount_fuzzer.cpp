// Fuzz mount + fsck over small damaged images. The image starts as a valid
// file system (a few files, a rename, a delete) on a tiny chip; the input is
// a list of edits applied to the raw cells (4 bytes each: 3-byte offset,
// value), so the fuzzer explores images near valid ones. Mount and fsck must
// never crash: only succeed or name a failed check.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>

using namespace vmodem;

namespace {

struct Image {
  Image() {
    nand::Geometry g;
    g.block_count = 6;
    g.pages_per_block = 8;
    storage = std::move(nand::Storage::create_in_memory(g).value());
    chip = std::make_unique<nand::SimulatedChip>(*storage, nand::ChipConfig{});
    if (!fs::FileSystem::format(*chip, cfg)) std::abort();
    auto f = std::move(fs::FileSystem::mount(*chip, cfg).value());
    std::vector<std::uint8_t> data(5000);
    for (std::size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<std::uint8_t>(i * 7);
    (void)f->mkdir("/d");
    (void)f->write_file("/d/a", data);
    (void)f->write_file("/b", {data.data(), 100});
    (void)f->write_file("/c", {data.data(), 2100});
    (void)f->rename("/b", "/d/b");
    (void)f->unlink("/c");
    storage->snapshot_begin();
  }
  fs::Config cfg;
  std::unique_ptr<nand::Storage> storage;
  std::unique_ptr<nand::SimulatedChip> chip;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Image image;
  image.storage->snapshot_rollback();
  const nand::Geometry& g = image.storage->geometry();
  const std::uint64_t raw = std::uint64_t{g.raw_page_size()} * g.page_count();
  for (std::size_t i = 0; i + 4 <= size; i += 4) {
    const std::uint64_t at = (std::uint64_t{data[i]} | std::uint64_t{data[i + 1]} << 8 |
                              std::uint64_t{data[i + 2]} << 16) %
                             raw;
    const std::uint64_t page = at / g.raw_page_size();
    const nand::PageAddr addr{static_cast<std::uint32_t>(page / g.pages_per_block),
                              static_cast<std::uint32_t>(page % g.pages_per_block)};
    const auto column = static_cast<std::uint32_t>(at % g.raw_page_size());
    image.storage->will_modify_data(addr.block);
    image.storage->set_cells(addr, column, {&data[i + 3], 1});
  }
  auto report = fs::FileSystem::fsck(*image.chip, image.cfg, {{}, true});
  for (const auto& f : report.failures) {
    // Every finding is a probe point 1-9 or, from the deep check, a data error.
    if (!f.is_data_error() && (f.number() < 1 || f.number() > 9)) std::abort();
  }
  auto mounted = fs::FileSystem::mount(*image.chip, image.cfg);
  if (!mounted) {
    if (mounted.error().code == fs::Errc::check_failed && !mounted.error().check) std::abort();
    return 0;
  }
  fs::FileSystem& f = **mounted;
  if (auto list = f.readdir("/d")) {
    for (const auto& e : *list)
      (void)f.read_file("/d/" + e.name);
  }
  (void)f.check({{}, true});
  (void)f.write_file("/new", {data, size});
  (void)f.unlink("/d/a");
  return 0;
}
