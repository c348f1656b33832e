// UBI: the on-flash headers, and images made by the real mtd-utils ubinize
// written with flash_image() and attached.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include <vmodem/nand/damage.hpp>
#include <vmodem/nand/ubi/media.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>

#include "host_tools.hpp"
#include "nand_fixture.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vmodem::nand::ubi {
namespace {

using testing::ChipFixture;
using testing::pattern;
namespace fs = std::filesystem;

std::vector<std::uint8_t> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

TEST(UbiMedia, CrcIsLinuxCrc32LeFromAllOnesWithoutFinalInversion) {
  // zlib's CRC-32 of "123456789" is 0xCBF43926; UBI's is its complement.
  EXPECT_EQ(crc32(bytes_of("123456789")), 0x340BC6D9u);
}

TEST(UbiMedia, HeadersRoundTripAndTearsAreCaught) {
  std::array<std::uint8_t, kHeaderSize> bytes{};
  const EcHeader ec{.version = kVersion,
                    .erase_count = 77,
                    .vid_hdr_offset = 2048,
                    .data_offset = 4096,
                    .image_seq = 0xDEADBEEF};
  encode(ec, bytes);
  EXPECT_EQ(bytes[0], 'U');
  EXPECT_EQ(bytes[3], '#');
  EcHeader ec_back;
  ASSERT_EQ(decode(bytes, ec_back), HeaderState::valid);
  EXPECT_EQ(ec_back.erase_count, 77u);
  EXPECT_EQ(ec_back.image_seq, 0xDEADBEEFu);
  bytes[10] ^= 0x04;
  EXPECT_EQ(decode(bytes, ec_back), HeaderState::bad_crc);

  const VidHeader vid{.vol_type = VolumeType::static_,
                      .copy_flag = true,
                      .vol_id = 3,
                      .lnum = 1,
                      .data_size = 1000,
                      .used_ebs = 2,
                      .data_crc = 0x12345678,
                      .sqnum = 1ull << 40};
  encode(vid, bytes);
  VidHeader vid_back;
  ASSERT_EQ(decode(bytes, vid_back), HeaderState::valid);
  EXPECT_EQ(vid_back.sqnum, 1ull << 40);
  EXPECT_TRUE(vid_back.copy_flag);
  EXPECT_EQ(vid_back.vol_type, VolumeType::static_);
  EXPECT_EQ(decode(bytes, ec_back), HeaderState::bad_magic);  // a VID header is no EC header

  bytes.fill(0xFF);
  EXPECT_EQ(decode(bytes, vid_back), HeaderState::erased);
}

TEST(UbiMedia, VolumeTableRecordsCheckNamesAndEmptySlots) {
  std::array<std::uint8_t, kVtblRecordSize> bytes{};
  VtblRecord record{
      .reserved_pebs = 9, .vol_type = VolumeType::dynamic, .name = "usrdata", .flags = kAutoresize};
  encode(record, bytes);
  VtblRecord back;
  ASSERT_EQ(decode(bytes, back), HeaderState::valid);
  EXPECT_EQ(back.name, "usrdata");
  EXPECT_EQ(back.flags, kAutoresize);

  encode(VtblRecord{}, bytes);
  ASSERT_EQ(decode(bytes, back), HeaderState::valid);
  EXPECT_TRUE(back.empty());

  // An "empty" slot with bytes in it was never written by UBI.
  bytes[20] = 1;
  const std::uint32_t crc = crc32(std::span(bytes).first(kVtblRecordSize - 4));
  for (int i = 0; i < 4; ++i)
    bytes[kVtblRecordSize - 4 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  EXPECT_EQ(decode(bytes, back), HeaderState::bad_field);
}

struct UbiImageTest : ChipFixture {
  void SetUp() override {
    tool = vmodem::testing::host_tool("ubinize");
    if (tool.empty()) GTEST_SKIP() << "ubinize (Debian package mtd-utils) is not installed";
  }

  // ubinize of one static volume holding `payload` and one empty dynamic
  // volume, for this chip's 128 KiB eraseblocks of 2 KiB pages.
  std::vector<std::uint8_t> make_image(const std::vector<std::uint8_t>& payload,
                                       const std::string& seq = "0x1234ABCD") {
    std::ofstream(dir / "payload.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(payload.data()),
               static_cast<std::streamsize>(payload.size()));
    std::ofstream(dir / "ubi.ini") << "[rootfs]\nmode=ubi\nimage=" << (dir / "payload.bin").string()
                                   << "\nvol_id=0\nvol_type=static\nvol_name=rootfs\n"
                                   << "[usrdata]\nmode=ubi\nvol_id=1\nvol_type=dynamic\n"
                                   << "vol_size=1MiB\nvol_name=usrdata\nvol_flags=autoresize\n";
    const std::string command = tool + " -o " + (dir / "ubi.img").string() +
                                " -m 2048 -p 128KiB -Q " + seq + " " + (dir / "ubi.ini").string() +
                                " 2>&1";
    const auto ran = vmodem::testing::run_shell(command);
    EXPECT_EQ(ran.exit_code, 0) << command << "\n" << ran.out;
    std::ifstream in(dir / "ubi.img", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::unique_ptr<UbiDevice> attach() {
    auto ubi = UbiDevice::attach(*chip);
    EXPECT_TRUE(ubi) << (ubi ? "" : ubi.error().message());
    return ubi ? std::move(*ubi) : nullptr;
  }

  std::string tool;
  vmodem::testing::TempDir dir;
};

TEST_F(UbiImageTest, AnImageFromUbinizeAttachesAndItsStaticVolumeReadsBackByteForByte) {
  const auto payload = pattern(300'000, 7);  // three LEBs, the last one partly used
  const auto image = make_image(payload);
  auto flashed = flash_image(*chip, image);
  ASSERT_TRUE(flashed) << flashed.error().message();
  EXPECT_EQ(flashed->image_pebs, image.size() / (64 * 2048));
  EXPECT_EQ(flashed->image_pebs + flashed->formatted, g().block_count);

  auto ubi = attach();
  ASSERT_TRUE(ubi);
  EXPECT_EQ(ubi->layout().vid_hdr_offset, 2048u);
  EXPECT_EQ(ubi->layout().data_offset, 4096u);
  EXPECT_EQ(ubi->layout().leb_size, 126976u);
  EXPECT_EQ(ubi->layout().image_seq, 0x1234ABCDu);
  EXPECT_FALSE(ubi->needs_format());
  EXPECT_FALSE(ubi->volume_table_degraded());
  ASSERT_EQ(ubi->volumes().size(), 2u);

  const Volume* rootfs = ubi->find("rootfs");
  ASSERT_NE(rootfs, nullptr);
  EXPECT_EQ(rootfs->record.vol_type, VolumeType::static_);
  EXPECT_EQ(rootfs->used_ebs, 3u);
  EXPECT_EQ(rootfs->used_bytes, payload.size());
  auto data = ubi->read_static_volume(rootfs->id);
  ASSERT_TRUE(data) << data.error().message();
  EXPECT_TRUE(*data == payload);

  const Volume* usrdata = ubi->find("usrdata");
  ASSERT_NE(usrdata, nullptr);
  EXPECT_EQ(usrdata->record.vol_type, VolumeType::dynamic);
  EXPECT_EQ(usrdata->record.flags & kAutoresize, kAutoresize);
  std::vector<std::uint8_t> leb(64);
  ASSERT_TRUE(ubi->read_leb(usrdata->id, 0, 1000, leb));
  EXPECT_TRUE(std::all_of(leb.begin(), leb.end(), [](std::uint8_t b) { return b == 0xFF; }));

  // Two layout-volume PEBs and three of rootfs hold LEBs; the rest are free.
  EXPECT_EQ(ubi->count(PebState::used), 5u);
  EXPECT_EQ(ubi->count(PebState::free), g().block_count - 5);
  EXPECT_EQ(ubi->mean_erase_count(), 1u);  // a fresh chip, erased once
}

TEST_F(UbiImageTest, TheDynamicVolumeOfAUbinizeImageTakesWritesThatSurviveAttach) {
  const auto payload = pattern(5000, 8);
  ASSERT_TRUE(flash_image(*chip, make_image(payload)));
  auto ubi = attach();
  ASSERT_TRUE(ubi);
  const std::uint32_t usrdata = ubi->find("usrdata")->id;
  const auto page = pattern(2048, 9);
  ASSERT_TRUE(ubi->write_leb(usrdata, 3, 0, page));
  ASSERT_TRUE(ubi->change_leb(usrdata, 4, pattern(3000, 10)));
  auto again = attach();
  ASSERT_TRUE(again);
  std::vector<std::uint8_t> back(2048);
  ASSERT_TRUE(again->read_leb(usrdata, 3, 0, back));
  EXPECT_TRUE(back == page);
  std::vector<std::uint8_t> changed(3000);
  ASSERT_TRUE(again->read_leb(usrdata, 4, 0, changed));
  EXPECT_TRUE(changed == pattern(3000, 10));
  EXPECT_TRUE(*again->read_static_volume(ubi->find("rootfs")->id) == payload);
}

TEST_F(UbiImageTest, FlashingAgainKeepsEachBlocksEraseCounter) {
  const auto image = make_image(pattern(5000, 1));
  ASSERT_TRUE(flash_image(*chip, image));
  ASSERT_TRUE(flash_image(*chip, image));
  auto ubi = attach();
  ASSERT_TRUE(ubi);
  for (std::uint32_t peb = 0; peb < ubi->peb_count(); ++peb)
    EXPECT_EQ(ubi->peb(peb).erase_count, 2u) << "PEB " << peb;
}

TEST_F(UbiImageTest, ABadBlockIsSteppedOverAndTheVolumeStillReadsBack) {
  ASSERT_TRUE(chip->mark_bad(1));
  const auto payload = pattern(200'000, 3);
  auto flashed = flash_image(*chip, make_image(payload));
  ASSERT_TRUE(flashed);
  EXPECT_EQ(flashed->skipped_bad, 1u);
  auto ubi = attach();
  ASSERT_TRUE(ubi);
  EXPECT_EQ(ubi->peb(1).state, PebState::bad);
  auto data = ubi->read_static_volume(ubi->find("rootfs")->id);
  ASSERT_TRUE(data);
  EXPECT_TRUE(*data == payload);
}

TEST_F(UbiImageTest, ADamagedVolumeTableCopyIsReplacedByTheOther) {
  ASSERT_TRUE(flash_image(*chip, make_image(pattern(5000, 2))));
  auto before = attach();
  ASSERT_TRUE(before);
  // The first page of LEB 0 of the layout volume becomes unreadable.
  std::uint32_t leb0 = kUnmapped;
  for (std::uint32_t peb = 0; peb < before->peb_count(); ++peb) {
    if (before->peb(peb).state == PebState::used &&
        before->peb(peb).vid.vol_id == kLayoutVolumeId && before->peb(peb).vid.lnum == 0)
      leb0 = peb;
  }
  ASSERT_NE(leb0, kUnmapped);
  Damage unreadable;
  unreadable.kind = Damage::Kind::uncorrectable;
  ASSERT_TRUE(apply(*chip, {leb0, 4096 / 2048}, unreadable));

  auto ubi = attach();
  ASSERT_TRUE(ubi);
  EXPECT_TRUE(ubi->volume_table_degraded());
  EXPECT_NE(ubi->find("rootfs"), nullptr);
  EXPECT_NE(ubi->find("usrdata"), nullptr);
}

// Writes a second copy of LEB 0 of volume 0 into a free PEB, as an atomic
// LEB change does (copy_flag, data CRC), with `data_crc` as given.
void write_copy(Device& mtd, const UbiDevice& ubi, std::uint32_t peb,
                const std::vector<std::uint8_t>& data, std::uint32_t data_crc) {
  const Layout& layout = ubi.layout();
  const VidHeader& old = ubi.peb(ubi.find("rootfs")->eba[0]).vid;
  VidHeader vid = old;
  vid.copy_flag = true;
  vid.data_size = static_cast<std::uint32_t>(data.size());
  vid.data_crc = data_crc;
  vid.sqnum = ubi.max_sqnum() + 1;
  std::vector<std::uint8_t> page(2048, 0xFF);
  encode(vid, std::span<std::uint8_t, kHeaderSize>(page.data(), kHeaderSize));
  ASSERT_TRUE(mtd.program({peb, layout.vid_hdr_offset / 2048}, page, {}));
  std::vector<std::uint8_t> first(2048, 0xFF);
  std::copy(data.begin(), data.end(), first.begin());
  ASSERT_TRUE(mtd.program({peb, layout.data_offset / 2048}, first, {}));
}

TEST_F(UbiImageTest, ANewerCopyWinsOnlyWhenItsDataChecks) {
  const auto payload = pattern(1000, 4);
  ASSERT_TRUE(flash_image(*chip, make_image(payload)));
  auto ubi = attach();
  ASSERT_TRUE(ubi);
  const std::uint32_t original = ubi->find("rootfs")->eba[0];
  const std::uint32_t spare_peb = g().block_count - 1;
  ASSERT_EQ(ubi->peb(spare_peb).state, PebState::free);

  // A copy whose write was cut: its CRC does not match, the old copy stays.
  const auto update = pattern(1000, 5);
  write_copy(*chip, *ubi, spare_peb, update, crc32(update) ^ 1);
  auto torn = attach();
  ASSERT_TRUE(torn);
  EXPECT_EQ(torn->find("rootfs")->eba[0], original);
  EXPECT_EQ(torn->peb(spare_peb).state, PebState::stale);
  EXPECT_TRUE(*torn->read_static_volume(0) == payload);

  // The same copy complete: it is the current LEB.
  ASSERT_TRUE(chip->erase(spare_peb));
  std::vector<std::uint8_t> ec_page(2048, 0xFF);
  encode(EcHeader{.erase_count = 2,
                  .vid_hdr_offset = 2048,
                  .data_offset = 4096,
                  .image_seq = ubi->layout().image_seq},
         std::span<std::uint8_t, kHeaderSize>(ec_page.data(), kHeaderSize));
  ASSERT_TRUE(chip->program({spare_peb, 0}, ec_page, {}));
  write_copy(*chip, *ubi, spare_peb, update, crc32(update));
  auto done = attach();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->find("rootfs")->eba[0], spare_peb);
  EXPECT_EQ(done->peb(original).state, PebState::stale);
  EXPECT_TRUE(*done->read_static_volume(0) == update);
}

TEST_F(UbiImageTest, EraseblocksOfTwoImagesRefuseToAttach) {
  ASSERT_TRUE(flash_image(*chip, make_image(pattern(5000, 6), "0x1111")));
  // Blocks 0..1 from a second image, the rest from the first.
  const auto other = make_image(pattern(5000, 6), "0x2222");
  for (std::uint32_t block = 0; block < 2; ++block) {
    ASSERT_TRUE(chip->erase(block));
    for (std::uint32_t page = 0; page < 3; ++page) {
      ASSERT_TRUE(chip->program({block, page},
                                std::span(other).subspan((block * 64 + page) * 2048, 2048), {}));
    }
  }
  auto ubi = UbiDevice::attach(*chip);
  ASSERT_FALSE(ubi);
  EXPECT_EQ(ubi.error().code, Errc::bad_image);
  EXPECT_NE(ubi.error().detail.find("image sequence number"), std::string::npos)
      << ubi.error().detail;
}

TEST_F(ChipFixture, AnErasedPartitionAttachesEmptyAndNeedsFormatting) {
  auto ubi = UbiDevice::attach(*chip);
  ASSERT_TRUE(ubi) << ubi.error().message();
  EXPECT_TRUE((*ubi)->needs_format());
  EXPECT_TRUE((*ubi)->volumes().empty());
  EXPECT_EQ((*ubi)->count(PebState::erased), g().block_count);
}

TEST_F(ChipFixture, AFileThatIsNotAUbiImageIsRefusedBeforeAnythingIsWritten) {
  const auto junk = pattern(64 * 2048 * 2, 9);
  auto flashed = flash_image(*chip, junk);
  ASSERT_FALSE(flashed);
  EXPECT_EQ(flashed.error().code, Errc::invalid_argument);
  EXPECT_NE(flashed.error().detail.find("EC header"), std::string::npos);
  auto odd = flash_image(*chip, std::vector<std::uint8_t>(1000, 0));
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().detail.find("whole number"), std::string::npos);
  EXPECT_EQ(storage->counters().programs, 0u);
}

}  // namespace
}  // namespace vmodem::nand::ubi
