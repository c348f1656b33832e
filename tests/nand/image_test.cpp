// File-backed images: persistence, refusal of foreign or mismatched files,
// exclusive use, export/import.
#include <cstring>
#include <fstream>
#include <sstream>

#include "image_layout.hpp"
#include "nand_fixture.hpp"
#include "temp_dir.hpp"

namespace vmodem::nand::testing {
namespace {

using vmodem::testing::TempDir;

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(Image, CreateIsSparseAndReopenKeepsEverything) {
  TempDir dir;
  const auto path = dir / "nand.img";
  const auto data = pattern(2048, 41);
  {
    auto storage = Storage::create_image(path, small_geometry()).value();
    SimulatedChip chip(*storage, {});
    ASSERT_TRUE(chip.erase(3));
    ASSERT_TRUE(chip.program({3, 0}, data, {}));
    ASSERT_TRUE(chip.inject_bit_flips({3, 0}, 2, 0));
    ASSERT_TRUE(chip.mark_bad(9));
  }
  EXPECT_LT(std::filesystem::file_size(path) / 4, small_geometry().capacity_bytes());
  auto storage = Storage::open_image(path, small_geometry()).value();
  SimulatedChip chip(*storage, {});
  std::vector<std::uint8_t> main(2048);
  auto info = chip.read({3, 0}, main, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, 2U) << "the damage persisted with the data";
  EXPECT_EQ(main, data);
  EXPECT_EQ(storage->block_meta(3).erase_count, 1U);
  EXPECT_TRUE(chip.is_bad(9).value());
  EXPECT_EQ(storage->counters().programs, 2U);
  EXPECT_EQ(storage->deviation_slots_in_use(), 1U);
}

TEST(Image, CreateRefusesToOverwrite) {
  TempDir dir;
  const auto path = dir / "nand.img";
  { std::ofstream(path) << "precious"; }
  auto result = Storage::create_image(path, small_geometry());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::io_error);
  EXPECT_EQ(file_bytes(path), "precious");
}

TEST(Image, OtherGeometryIsRefusedAndTheFileLeftUntouched) {
  TempDir dir;
  const auto path = dir / "nand.img";
  { auto storage = Storage::create_image(path, small_geometry()).value(); }
  const auto before = file_bytes(path);
  auto result = Storage::open_image(path, small_geometry(64));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::bad_image);
  EXPECT_NE(result.error().detail.find("32 blocks"), std::string::npos) << result.error().detail;
  EXPECT_NE(result.error().detail.find("64 blocks"), std::string::npos) << result.error().detail;
  EXPECT_EQ(file_bytes(path), before);
}

TEST(Image, ForeignTruncatedAndNewerFilesAreRefused) {
  TempDir dir;
  const auto junk = dir / "junk.img";
  { std::ofstream(junk) << std::string(8192, 'x'); }
  EXPECT_EQ(Storage::open_image(junk).error().code, Errc::bad_image);

  const auto path = dir / "nand.img";
  { auto storage = Storage::create_image(path, small_geometry()).value(); }
  const auto good = file_bytes(path);
  {
    auto bytes = good;
    bytes[8] = 99;  // format version
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto result = Storage::open_image(path);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().detail.find("version 99"), std::string::npos) << result.error().detail;
  }
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() / 2);
    EXPECT_EQ(Storage::open_image(path).error().code, Errc::bad_image);
  }
  EXPECT_EQ(Storage::open_image(dir / "missing.img").error().code, Errc::io_error);
}

TEST(Image, InconsistentMetadataIsRefusedNotFollowed) {
  TempDir dir;
  const auto path = dir / "nand.img";
  {
    auto storage = Storage::create_image(path, small_geometry()).value();
    SimulatedChip chip(*storage, {});
    ASSERT_TRUE(chip.inject_bit_flips({1, 2}, 3));
  }
  // Point the damaged page's record somewhere it does not own.
  const auto offsets =
      layout::compute_offsets(small_geometry(), StorageOptions{}.deviation_slots, 0);
  const std::uint64_t meta_at = offsets.page_meta + (1 * 64 + 2) * sizeof(PageMeta);
  auto bytes = file_bytes(path);
  PageMeta meta;
  std::memcpy(&meta, bytes.data() + meta_at, sizeof meta);
  ASSERT_NE(meta.deviation_slot, 0U);
  meta.deviation_slot = 4000;
  std::memcpy(bytes.data() + meta_at, &meta, sizeof meta);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto result = Storage::open_image(path, {}, true);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::bad_image);
  EXPECT_NE(result.error().detail.find("damage record 4000"), std::string::npos)
      << result.error().detail;
  EXPECT_EQ(file_bytes(path), bytes);
}

TEST(Image, OnlyOneWriterAtATime) {
  TempDir dir;
  const auto path = dir / "nand.img";
  auto first = Storage::create_image(path, small_geometry()).value();
  auto second = Storage::open_image(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().detail.find("in use"), std::string::npos);
  EXPECT_TRUE(Storage::in_use_by_writer(path));
  EXPECT_TRUE(Storage::open_image(path, {}, /*read_only=*/true)) << "readers are welcome";
  first.reset();
  EXPECT_FALSE(Storage::in_use_by_writer(path)) << "the writer is gone";
  EXPECT_TRUE(Storage::open_image(path));
}

TEST(Image, ReadOnlyOpenNeverWrites) {
  TempDir dir;
  const auto path = dir / "nand.img";
  { auto storage = Storage::create_image(path, small_geometry()).value(); }
  const auto before = file_bytes(path);
  {
    auto storage = Storage::open_image(path, {}, true).value();
    SimulatedChip chip(*storage, {});
    std::vector<std::uint8_t> main(2048);
    ASSERT_TRUE(chip.read({0, 0}, main, {}));
    ASSERT_TRUE(chip.erase(1));
  }
  EXPECT_EQ(file_bytes(path), before);
}

TEST(Image, ExportImportAndLoadIntoMemory) {
  TempDir dir;
  auto ram = Storage::create_in_memory(small_geometry()).value();
  SimulatedChip chip(*ram, {});
  const auto data = pattern(2048, 42);
  ASSERT_TRUE(chip.program({2, 0}, data, {}));
  ASSERT_TRUE(ram->export_image(dir / "copy.img"));

  auto loaded = Storage::load_into_memory(dir / "copy.img").value();
  SimulatedChip loaded_chip(*loaded, {});
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(loaded_chip.read({2, 0}, main, {}));
  EXPECT_EQ(main, data);

  ASSERT_TRUE(chip.erase(2));
  ASSERT_TRUE(ram->import_image(dir / "copy.img"));
  ASSERT_TRUE(chip.read({2, 0}, main, {}));
  EXPECT_EQ(main, data) << "import brought the page back";
}

// The creator's attachment (the simulator keeps the profile there) goes
// wherever the image goes, and loading another image's content keeps it.
TEST(Image, AnAttachmentTravelsWithTheImageAndStaysWithTheDevice) {
  TempDir dir;
  const auto path = dir / "nand.img";
  StorageOptions options;
  options.attachment = std::string("{\"name\": \"mine\"}") + std::string(5000, 'x');
  const auto data = pattern(2048, 43);
  {
    auto storage = Storage::create_image(path, small_geometry(), options).value();
    SimulatedChip chip(*storage, {});
    ASSERT_TRUE(chip.program({4, 0}, data, {}));
  }
  auto storage = Storage::open_image(path, small_geometry()).value();
  EXPECT_EQ(storage->attachment(), options.attachment);
  EXPECT_EQ(storage->copy_in_memory().value()->attachment(), options.attachment);
  ASSERT_TRUE(storage->export_image(dir / "copy.img"));
  EXPECT_EQ(Storage::load_into_memory(dir / "copy.img").value()->attachment(), options.attachment);

  // Another device of the same chip, with its own attachment: assigning
  // this one's content to it brings the page but not the attachment.
  StorageOptions other_options;
  other_options.attachment = "other";
  auto other = Storage::create_in_memory(small_geometry(), other_options).value();
  ASSERT_TRUE(other->assign(*storage));
  EXPECT_EQ(other->attachment(), "other");
  SimulatedChip other_chip(*other, {});
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(other_chip.read({4, 0}, main, {}));
  EXPECT_EQ(main, data);
  ASSERT_TRUE(other->export_image(dir / "other.img"));
  EXPECT_EQ(Storage::open_image(dir / "other.img", small_geometry())->get()->attachment(), "other");
}

// Images made before attachments existed (format version 1) still open.
TEST(Image, AVersion1ImageOpensWithoutAnAttachment) {
  TempDir dir;
  const auto path = dir / "nand.img";
  { auto storage = Storage::create_image(path, small_geometry()).value(); }
  auto bytes = file_bytes(path);
  bytes[8] = 1;  // format version
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto storage = Storage::open_image(path, small_geometry());
  ASSERT_TRUE(storage) << storage.error().detail;
  EXPECT_EQ((*storage)->attachment(), "");
}

}  // namespace
}  // namespace vmodem::nand::testing
