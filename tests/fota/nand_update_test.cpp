// The boot-time update from the FOTA area: URC events, every END code,
// resume after a cut, downgrade.
#include "nand_fixture.hpp"

namespace vmodem::fota::testing {
namespace {

using Events = std::vector<std::string>;

// Checks START, UPDATING rising to 100, END 0 (RESTORE allowed after START).
void expect_success_sequence(const Events& events) {
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front(), "START");
  EXPECT_EQ(events.back(), "END 0");
  EXPECT_EQ(events[events.size() - 2], "UPDATING 100");
  int last = -1;
  for (std::size_t i = 1; i + 1 < events.size(); ++i) {
    if (events[i].starts_with("RESTORE")) continue;
    ASSERT_TRUE(events[i].starts_with("UPDATING ")) << events[i];
    const int pct = std::stoi(events[i].substr(9));
    EXPECT_GT(pct, last);
    EXPECT_GE(pct, 1);
    last = pct;
  }
}

class NandUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nand_.install(v1_);
    package_ = make_or_die(v1_, v2_);
  }
  // Stages `package`, boots, and checks the refusal: END `code`, V1 still
  // running, nothing staged any more.
  void expect_refused(const Bytes& package, int code) {
    expect_refused_keeping(package, code, v1_);
  }
  void expect_refused_keeping(const Bytes& package, int code, const FirmwareBundle& running_fw) {
    nand_.stage(package);
    auto boot = nand_.boot_update();
    EXPECT_EQ(boot.events, (Events{"START", "END " + std::to_string(code)}));
    auto running = nand_.running();
    ASSERT_TRUE(running) << running.error();
    EXPECT_TRUE(same_images(running->bundle, running_fw));
    EXPECT_EQ(nand_.boot_update().events, Events{"(none)"}) << "the package must be withdrawn";
  }

  NandFixture nand_;
  FirmwareBundle v1_ = synthetic_firmware(1), v2_ = synthetic_firmware(2);
  Bytes package_;
};

TEST_F(NandUpdateTest, NothingStagedNothingHappens) {
  EXPECT_EQ(nand_.boot_update().events, Events{"(none)"});
}

TEST_F(NandUpdateTest, AppliesAStagedPackageIntoTheOtherSlot) {
  nand_.stage(package_);
  auto boot = nand_.boot_update();
  expect_success_sequence(boot.events);
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v2_));
  EXPECT_EQ(running->record.slot, 1);
  EXPECT_EQ(nand_.boot_update().events, Events{"(none)"});
}

// Packages made before format 2 keep updating a module; the boot record's
// installed-by is the package id of either format.
TEST_F(NandUpdateTest, FormatOnePackageStillUpdates) {
  auto options = fast_options();
  options.format_version = kFormatVersion1;
  const Bytes v1_package = make_or_die(v1_, v2_, options);
  nand_.stage(v1_package);
  expect_success_sequence(nand_.boot_update().events);
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v2_));
  EXPECT_EQ(running->record.installed_by, parse_package(v1_package)->package_id);
}

TEST_F(NandUpdateTest, InstalledByIsTheFormatTwoPackageId) {
  ASSERT_EQ(package_[8], kFormatVersion2);
  nand_.stage(package_);
  ASSERT_EQ(nand_.boot_update().end_code, 0);
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_EQ(running->record.installed_by, parse_package(package_)->package_id);
}

TEST_F(NandUpdateTest, DowngradesWithTheReversePackage) {
  nand_.stage(package_);
  ASSERT_EQ(nand_.boot_update().end_code, 0);
  nand_.stage(make_or_die(v2_, v1_));
  auto boot = nand_.boot_update();
  expect_success_sequence(boot.events);
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v1_));
  EXPECT_EQ(running->record.slot, 0);
  EXPECT_EQ(running->record.generation, 3u);
}

TEST_F(NandUpdateTest, SourceMismatchEnds510) {
  expect_refused(make_or_die(v2_, synthetic_firmware(3)), 510);
}

TEST_F(NandUpdateTest, WrongModelEnds510) {
  expect_refused(make_or_die(synthetic_firmware(1, "OTHER"), synthetic_firmware(2, "OTHER")), 510);
}

TEST_F(NandUpdateTest, CorruptPackageEnds505) {
  Bytes bad = package_;
  bad[bad.size() / 2] ^= 0x40;
  expect_refused(bad, 505);
}

TEST_F(NandUpdateTest, TruncatedPackageEnds505) {
  expect_refused(Bytes(package_.begin(), package_.end() - 100), 505);
}

TEST_F(NandUpdateTest, NewerFormatVersionEnds504) {
  Bytes newer = package_;
  newer[8] = 3;  // format version
  reseal(newer);
  expect_refused(newer, 504);
}

TEST_F(NandUpdateTest, TargetLargerThanItsSlotEnds511) {
  auto big = v1_;
  big.version = "V9.0";
  big.images[1].data.resize(nand_.store()->capacity("modem", 1) + 2048, 0x11);
  expect_refused(make_or_die(v1_, big), 511);
}

TEST_F(NandUpdateTest, AnImageWithoutAPartitionEnds510) {
  auto extra = v2_;
  extra.images.push_back({"tz", Bytes(5000, 7)});
  expect_refused(make_or_die(v1_, extra), 510);
}

TEST_F(NandUpdateTest, ResumesAfterACutWithARestorePhase) {
  nand_.stage(package_);
  nand_.storage().snapshot_begin();
  nand_.injector().reset_operation_count();
  ASSERT_EQ(nand_.boot_update().end_code, 0);
  const auto ops = nand_.injector().operation_count();
  nand_.storage().snapshot_rollback();

  // Cut two thirds into the update: past several journaled blocks.
  ASSERT_TRUE(nand_.injector().arm_power_cut(ops * 2 / 3, nand::CutMode::torn_partial));
  auto cut = nand_.boot_update();
  ASSERT_TRUE(cut.cut);
  EXPECT_EQ(cut.end_code, -1);
  nand_.chip().power_up();
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v1_)) << "not committed yet";

  auto resumed = nand_.boot_update();
  expect_success_sequence(resumed.events);
  ASSERT_GE(resumed.events.size(), 2u);
  EXPECT_TRUE(resumed.events[1].starts_with("RESTORE ")) << resumed.events[1];
  EXPECT_GT(std::stoi(resumed.events[1].substr(8)), 0);
  running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v2_));
}

TEST_F(NandUpdateTest, AFlashErrorDuringTheApplyEnds502AndKeepsTheOldFirmware) {
  nand_.stage(package_);
  nand::FaultRule rule;
  rule.block_first = 24;  // modem slot B
  rule.block_last = 31;
  rule.ops = 1u << static_cast<unsigned>(nand::OpKind::program);
  rule.effect = nand::FaultEffect::program_fail;
  ASSERT_TRUE(nand_.injector().add_rule(rule));
  auto boot = nand_.boot_update();
  ASSERT_FALSE(boot.events.empty());
  EXPECT_EQ(boot.events.back(), "END 502");
  auto running = nand_.running();
  ASSERT_TRUE(running) << running.error();
  EXPECT_TRUE(same_images(running->bundle, v1_));
}

}  // namespace
}  // namespace vmodem::fota::testing

namespace vmodem::fota::testing {
namespace {

TEST_F(NandUpdateTest, TheSamePackageStagedAgainIsRefusedWith510) {
  nand_.stage(package_);
  ASSERT_EQ(nand_.boot_update().end_code, 0);
  expect_refused_keeping(package_, 510, v2_);
}

// SPEC §7's URC lines, as the module and `vmodem delta apply` print them.
TEST(FotaUrc, EveryStageInOneFormat) {
  EXPECT_EQ(fota_urc(UpdateEvent{UpdatePhase::start, 0}), "+QIND: \"FOTA\",\"START\"");
  EXPECT_EQ(fota_urc(UpdateEvent{UpdatePhase::updating, 40}), "+QIND: \"FOTA\",\"UPDATING\",40");
  EXPECT_EQ(fota_urc(UpdateEvent{UpdatePhase::end, 0}), "+QIND: \"FOTA\",\"END\",0");
  EXPECT_EQ(fota_urc("HTTPSTART"), "+QIND: \"FOTA\",\"HTTPSTART\"");
  EXPECT_EQ(fota_urc("FTPEND", 614), "+QIND: \"FOTA\",\"FTPEND\",614");
}

}  // namespace
}  // namespace vmodem::fota::testing
