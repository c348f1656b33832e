// The firmware store (A/B slots + boot record) and the FOTA area staging.
#include "nand_fixture.hpp"

namespace vmodem::fota::testing {
namespace {

TEST(FirmwareStore, InstallsAndReadsBackTheFactoryFirmware) {
  NandFixture nand;
  const auto v1 = synthetic_firmware(1);
  nand.install(v1);
  auto running = nand.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v1));
  EXPECT_EQ(running->record.generation, 1u);
  EXPECT_EQ(running->record.slot, 0);
  EXPECT_EQ(running->record.model, "TEST-MODEL");
  EXPECT_FALSE(running->fell_back);
}

TEST(FirmwareStore, ASecondInstallGoesToTheOtherSlotAndKeepsTheFirst) {
  NandFixture nand;
  nand.install(synthetic_firmware(1));
  nand.install(synthetic_firmware(2));
  auto store = nand.store();
  ASSERT_EQ(store->records().size(), 2u);
  EXPECT_EQ(store->records()[0].version, "V2.0");
  EXPECT_EQ(store->records()[0].slot, 1);
  EXPECT_EQ(store->records()[1].version, "V1.0");
  auto old = store->read(store->records()[1]);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_TRUE(same_images(*old, synthetic_firmware(1)));
}

TEST(FirmwareStore, FallsBackToTheOtherSlotWhenTheActiveOneIsDamaged) {
  NandFixture nand;
  nand.install(synthetic_firmware(1));
  nand.install(synthetic_firmware(2));
  // Slot B of "modem" starts at physical block 16 + 8.
  ASSERT_TRUE(nand.injector().erase(24));
  auto running = nand.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(running->fell_back);
  EXPECT_NE(running->why.find("modem"), std::string::npos) << running->why;
  EXPECT_TRUE(same_images(running->bundle, synthetic_firmware(1)));
}

TEST(FirmwareStore, VerifiedImagesAnswerTheSameBytesAndNeverOtherBytes) {
  VerifiedImages verified;
  const Bytes image(5000, 0x5a);
  const Digest digest = sha256(image);
  EXPECT_TRUE(verified.verify("modem@A", image, digest));
  EXPECT_TRUE(verified.verify("modem@A", image, digest));  // from the memo
  Bytes flipped = image;
  flipped[4321] ^= 0x10;
  EXPECT_FALSE(verified.verify("modem@A", flipped, digest));
  EXPECT_FALSE(verified.verify("modem@A", Bytes(image.begin(), image.end() - 1), digest));
  EXPECT_TRUE(verified.verify("modem@A", image, digest));
}

TEST(FirmwareStore, ABootWithVerifiedImagesStillFallsBackFromADamagedSlot) {
  NandFixture nand;
  nand.install(synthetic_firmware(1));
  nand.install(synthetic_firmware(2));
  VerifiedImages verified;
  for (int boot = 0; boot < 2; ++boot) {
    auto loaded = nand.store()->load(&verified);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->fell_back);
    EXPECT_TRUE(same_images(loaded->bundle, synthetic_firmware(2)));
  }
  ASSERT_TRUE(nand.injector().erase(24));  // slot B of "modem"
  auto loaded = nand.store()->load(&verified);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->fell_back);
  EXPECT_TRUE(same_images(loaded->bundle, synthetic_firmware(1)));
}

// What a module's boot asks (it needs the record, not the bytes): the same
// verdicts as load(), each page read once, and a page changed behind a
// known image's back still found (its SHA-256 is taken from there on).
TEST(FirmwareStore, ABootThatNeedsOnlyTheRecordVerifiesAsLoadDoesReadingEachPageOnce) {
  NandFixture nand;
  nand.install(synthetic_firmware(1));
  nand.install(synthetic_firmware(2));
  auto operations = [&](auto&& boot) {
    const std::uint64_t before = nand.injector().operation_count();
    boot();
    return nand.injector().operation_count() - before;
  };
  std::uint64_t load_reads = 0;
  {
    auto store = nand.store();
    load_reads = operations([&] { ASSERT_TRUE(store->load()); });
  }
  VerifiedImages verified;
  for (int boot = 0; boot < 3; ++boot) {  // the first verifies by SHA-256, the others by compare
    auto store = nand.store();
    const std::uint64_t reads = operations([&] {
      auto loaded = store->load_record(&verified);
      ASSERT_TRUE(loaded) << loaded.error().message;
      EXPECT_EQ(loaded->record.version, "V2.0");
      EXPECT_FALSE(loaded->fell_back);
      EXPECT_TRUE(loaded->bundle.images.empty());
    });
    EXPECT_EQ(reads, load_reads) << "boot " << boot;
  }
  // Slot B of "modem" starts at physical block 24: its page 10 now reads
  // other bytes without an ECC error (cells rewritten under the ECC).
  const Bytes other(nand.chip().geometry().page_size, 0x3c);
  nand.chip().storage().set_cells({24, 10}, 0, other);
  auto store = nand.store();
  auto loaded = store->load_record(&verified);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->fell_back);
  EXPECT_EQ(loaded->record.version, "V1.0");
  EXPECT_NE(loaded->why.find("modem"), std::string::npos) << loaded->why;
  auto full = store->load(&verified);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->record.version, "V1.0");
}

TEST(FirmwareStore, ATornBootRecordLeavesThePreviousOneInForce) {
  NandFixture nand;
  nand.install(synthetic_firmware(1));
  // The next commit writes copy 1 (block 3): erase + record page + seal page.
  // Cut the record page: the seal never comes, so V1 stays.
  auto store = nand.store();
  nand::FaultRule rule;
  rule.block_first = 3;
  rule.block_last = 3;
  rule.ops = 1u << static_cast<unsigned>(nand::OpKind::program);
  rule.effect = nand::FaultEffect::power_cut;
  rule.cut = nand::CutMode::torn_unstable;
  ASSERT_TRUE(nand.injector().add_rule(rule));
  EXPECT_FALSE(store->install(synthetic_firmware(2), &store->records().front()));
  nand.chip().power_up();
  for (int read = 0; read < 5; ++read) {
    auto running = nand.running();
    ASSERT_TRUE(running) << running.error();
    EXPECT_EQ(running->bundle.version, "V1.0");
  }
}

TEST(FirmwareStore, NoRecordMeansNoFirmware) {
  NandFixture nand;
  auto running = nand.running();
  ASSERT_FALSE(running);
  EXPECT_NE(running.error().find("no valid boot record"), std::string::npos);
}

TEST(FirmwareStore, RefusesAnImageWithoutAPartitionOrTooBigForItsSlot) {
  NandFixture nand;
  auto store = nand.store();
  auto fw = synthetic_firmware(1);
  fw.images.push_back({"tz", Bytes(100, 1)});
  EXPECT_EQ(store->install(fw, nullptr).error().code, ErrorCode::kFirmwareMismatch);
  fw = synthetic_firmware(1);
  fw.images[0].data.resize(store->capacity("boot", 0) + 1);
  EXPECT_EQ(store->install(fw, nullptr).error().code, ErrorCode::kNoSpace);
}

TEST(FotaArea, StagesReadsBackAndClears) {
  NandFixture nand;
  auto area = nand.area();
  const Bytes package = random_bytes(50'000, 3);
  ASSERT_TRUE(area->stage(package));
  auto staged = nand.area()->staged();
  ASSERT_TRUE(staged && *staged);
  EXPECT_TRUE((*staged)->intact);
  EXPECT_EQ((*staged)->bytes, package);
  ASSERT_TRUE(area->clear());
  staged = nand.area()->staged();
  ASSERT_TRUE(staged);
  EXPECT_FALSE(*staged);
}

TEST(FotaArea, RefusesAPackageLargerThanTheArea) {
  NandFixture nand;
  auto area = nand.area();
  const Bytes package(area->capacity() + 1, 0x5A);
  auto st = area->stage(package);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kNoSpace);
  EXPECT_EQ(end_code(st.error().code), 511);
}

// The two ways a NAND call fails say which they are: a cut (kPowerLoss: the
// caller stops, the next boot goes on) or a flash error with power
// (kAborted: END 502). No caller asks the chip whether it is powered.
TEST(FotaArea, APowerCutAndAFlashErrorSayWhichTheyAre) {
  NandFixture nand;
  const Bytes package = random_bytes(40'000, 5);
  auto area = nand.area();
  ASSERT_TRUE(nand.injector().arm_power_cut(3, nand::CutMode::before));
  auto cut = area->stage(package);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::kPowerLoss);
  EXPECT_TRUE(is_flash_failure(cut.error().code));
  nand.injector().clear_rules();
  nand.chip().power_up();
  nand::FaultRule fails;
  fails.trigger = nand::Trigger::every_match;
  fails.ops = 1U << static_cast<int>(nand::OpKind::erase);
  fails.effect = nand::FaultEffect::erase_fail;
  ASSERT_TRUE(nand.injector().add_rule(fails));
  auto failed = nand.area()->stage(package);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kAborted) << failed.error().message;
  EXPECT_EQ(end_code(failed.error().code), 502);
}

TEST(FotaArea, AStagingCutAtAnyOperationLeavesNothingOrTheWholePackage) {
  NandFixture nand;
  const Bytes package = random_bytes(40'000, 4);
  nand.storage().snapshot_begin();
  auto first = nand.area();
  nand.injector().reset_operation_count();
  ASSERT_TRUE(first->stage(package));
  const auto ops = nand.injector().operation_count();
  std::uint64_t none = 0, whole = 0;
  for (std::uint64_t n = 1; n <= ops; ++n) {
    nand.storage().snapshot_rollback();
    nand.chip().power_up();
    nand.injector().clear_rules();
    auto area = nand.area();
    ASSERT_TRUE(nand.injector().arm_power_cut(n, nand::CutMode::torn_random));
    (void)area->stage(package);
    nand.injector().clear_rules();
    nand.chip().power_up();
    auto staged = nand.area()->staged();
    ASSERT_TRUE(staged);
    if (!*staged) {
      ++none;
    } else {
      ASSERT_TRUE((*staged)->intact) << "cut at " << n;
      ASSERT_EQ((*staged)->bytes, package) << "cut at " << n;
      ++whole;
    }
  }
  std::printf("staging cuts: %llu operations; nothing staged %llu, whole package %llu\n",
              static_cast<unsigned long long>(ops), static_cast<unsigned long long>(none),
              static_cast<unsigned long long>(whole));
  EXPECT_GT(none, 0u);
  EXPECT_LE(whole, 1u) << "only a cut in the seal page can leave a staged package";
}

TEST(FotaArea, JournalKeepsTheNewestRecordAcrossBlocks) {
  NandFixture nand;
  auto area = nand.area();
  ASSERT_TRUE(area->clear());
  ApplyProgress p;
  p.package_id = sha256(Bytes{1, 2, 3});
  for (std::uint32_t i = 0; i < 40; ++i) {  // more than two 16-page blocks
    p.image_offset = i * 4096;
    ASSERT_TRUE(area->record_progress(p));
  }
  auto last = nand.area()->last_progress(p.package_id);
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->image_offset, 39u * 4096);
  auto other = nand.area()->last_progress(sha256(Bytes{9}));
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
}

}  // namespace
}  // namespace vmodem::fota::testing
