// UBI's write side: formatting, volumes, LEB writes and atomic changes under
// a power cut at every NAND operation, wear-levelling, scrubbing and bad
// PEBs.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/damage.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::ubi {
namespace {

using testing::pattern;
constexpr std::uint32_t kPage = 2048;

std::unique_ptr<UbiDevice> attached(Device& mtd, Options options = {}) {
  auto ubi = UbiDevice::attach(mtd, options);
  EXPECT_TRUE(ubi) << (ubi ? "" : ubi.error().message());
  return ubi ? std::move(*ubi) : nullptr;
}

std::vector<std::uint8_t> read(UbiDevice& ubi, std::uint32_t vol, std::uint32_t lnum,
                               std::size_t size) {
  std::vector<std::uint8_t> out(size);
  auto done = ubi.read_leb(vol, lnum, 0, out);
  EXPECT_TRUE(done) << (done ? "" : done.error().message());
  return out;
}

std::vector<std::uint8_t> padded(std::vector<std::uint8_t> data, std::size_t size) {
  data.resize(size, 0xFF);
  return data;
}

bool erased(const std::vector<std::uint8_t>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0xFF; });
}

struct UbiWrite : testing::ChipFixture {
  // An erased partition, formatted, with one dynamic volume "data".
  std::unique_ptr<UbiDevice> formatted(Options options = {}, std::uint32_t pebs = 8) {
    auto ubi = attached(*chip, options);
    if (!ubi) return nullptr;
    EXPECT_TRUE(ubi->format());
    EXPECT_TRUE(ubi->create_volume(0, "data", VolumeType::dynamic, pebs));
    return ubi;
  }
};

TEST_F(UbiWrite, AFormattedDeviceKeepsItsVolumesAndLebsAcrossAttach) {
  auto ubi = formatted();
  ASSERT_TRUE(ubi);
  EXPECT_FALSE(ubi->needs_format());
  const auto first = pattern(3 * kPage, 1);
  const auto later = pattern(kPage, 2);
  ASSERT_TRUE(ubi->write_leb(0, 5, 0, first));
  ASSERT_TRUE(ubi->write_leb(0, 5, 3 * kPage, later));  // appending to the same LEB
  ASSERT_TRUE(ubi->write_leb(0, 6, 0, first));
  ASSERT_TRUE(ubi->unmap_leb(0, 6));

  auto again = attached(*chip);
  ASSERT_TRUE(again);
  ASSERT_NE(again->find("data"), nullptr);
  EXPECT_EQ(again->find("data")->eba.size(), 8u);
  EXPECT_TRUE(read(*again, 0, 5, 3 * kPage) == first);
  std::vector<std::uint8_t> tail(kPage);
  ASSERT_TRUE(again->read_leb(0, 5, 3 * kPage, tail));
  EXPECT_TRUE(tail == later);
  EXPECT_FALSE(again->is_mapped(0, 6));
  EXPECT_TRUE(erased(read(*again, 0, 6, kPage)));
  EXPECT_FALSE(again->is_mapped(0, 0));
}

TEST_F(UbiWrite, RequestsOutsideTheRulesAreRefusedWithReasons) {
  auto ubi = formatted();
  ASSERT_TRUE(ubi);
  const auto page = pattern(kPage, 3);
  EXPECT_EQ(ubi->write_leb(0, 8, 0, page).error().code, Errc::invalid_argument);    // beyond
  EXPECT_EQ(ubi->write_leb(0, 0, 100, page).error().code, Errc::invalid_argument);  // unaligned
  EXPECT_EQ(ubi->write_leb(7, 0, 0, page).error().code, Errc::invalid_argument);    // no volume
  EXPECT_EQ(ubi->create_volume(1, "data", VolumeType::dynamic, 1).error().code,
            Errc::invalid_argument);  // the name is taken
  auto too_big = ubi->create_volume(1, "big", VolumeType::dynamic, 1000);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Errc::no_space);
  EXPECT_EQ(ubi->format().error().code, Errc::invalid_argument);  // would lose "data"
}

TEST_F(UbiWrite, AReadThatNeededEccMovesTheLebToAnotherPeb) {
  auto ubi = formatted();
  ASSERT_TRUE(ubi);
  const auto data = pattern(2 * kPage, 4);
  ASSERT_TRUE(ubi->write_leb(0, 1, 0, data));
  const std::uint32_t before = ubi->find("data")->eba[1];
  Damage flips;
  flips.kind = Damage::Kind::bit_flips;
  flips.bits = 2;
  ASSERT_TRUE(apply(*chip, {before, 2}, flips));  // the LEB's first data page

  EXPECT_TRUE(read(*ubi, 0, 1, 2 * kPage) == data);
  EXPECT_EQ(ubi->counters().scrubs, 1u);
  EXPECT_NE(ubi->find("data")->eba[1], before);
  auto again = attached(*chip);
  ASSERT_TRUE(again);
  EXPECT_TRUE(read(*again, 0, 1, 2 * kPage) == data);
  EXPECT_EQ(again->counters().scrubs, 0u) << "the new copy reads clean";
}

TEST_F(UbiWrite, APebThatFailsAProgramIsRetiredAndTheLebKeepsItsData) {
  auto ubi = formatted();
  ASSERT_TRUE(ubi);
  const auto head = pattern(kPage, 5);
  const auto rest = pattern(2 * kPage, 6);
  ASSERT_TRUE(ubi->write_leb(0, 2, 0, head));
  const std::uint32_t failing = ubi->find("data")->eba[2];
  Damage dying;
  dying.kind = Damage::Kind::failed_block;
  ASSERT_TRUE(apply(*chip, {failing, 0}, dying));

  ASSERT_TRUE(ubi->write_leb(0, 2, kPage, rest));
  EXPECT_EQ(ubi->counters().recovered_writes, 1u);
  EXPECT_EQ(ubi->peb(failing).state, PebState::bad);
  auto again = attached(*chip);
  ASSERT_TRUE(again);
  auto whole = head;
  whole.insert(whole.end(), rest.begin(), rest.end());
  EXPECT_TRUE(read(*again, 0, 2, 3 * kPage) == whole);
  EXPECT_EQ(again->peb(failing).state, PebState::bad);
}

TEST_F(UbiWrite, WearLevellingMovesColdDataOntoWornPebs) {
  Options options;
  options.wl_threshold = 8;
  auto ubi = formatted(options, 4);
  ASSERT_TRUE(ubi);
  ASSERT_TRUE(ubi->write_leb(0, 0, 0, pattern(kPage, 7)));  // cold: never rewritten
  for (int i = 0; i < 400; ++i)
    ASSERT_TRUE(ubi->change_leb(0, 1, pattern(kPage, 100 + i)));
  EXPECT_GT(ubi->counters().wear_moves, 0u);
  std::uint64_t low = ~0ull;
  std::uint64_t high = 0;
  for (std::uint32_t peb = 0; peb < ubi->peb_count(); ++peb) {
    low = std::min(low, ubi->peb(peb).erase_count.value_or(low));
    high = std::max(high, ubi->peb(peb).erase_count.value_or(0));
  }
  // Without wear-levelling the cold LEB's PEB would stay at 1 erase while
  // the others passed 400 / (PEBs taking the hot LEB).
  EXPECT_LE(high - low, 2 * options.wl_threshold) << "low " << low << " high " << high;
  auto again = attached(*chip, options);
  ASSERT_TRUE(again);
  EXPECT_TRUE(read(*again, 0, 0, kPage) == pattern(kPage, 7));
  EXPECT_TRUE(read(*again, 0, 1, kPage) == pattern(kPage, 499));
}

TEST_F(UbiWrite, ABootFormatsAPartitionItCannotUseAndFindsItsVolumeAfter) {
  auto first = attach_or_format(*chip, "usrdata");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->formatted_because, "no UBI volume table");
  const Volume* created = first->ubi->find("usrdata");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->record.vol_type, VolumeType::dynamic);
  EXPECT_GT(created->eba.size(), 20u) << "the volume takes what the partition has";
  ASSERT_TRUE(first->ubi->write_leb(first->volume_id, 0, 0, pattern(kPage, 1)));
  first.value().ubi.reset();

  auto again = attach_or_format(*chip, "usrdata");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->formatted_because, "") << "attached as it was";
  EXPECT_TRUE(read(*again->ubi, again->volume_id, 0, kPage) == pattern(kPage, 1));
  again.value().ubi.reset();

  // Something that is not UBI (another file system's blocks): formatted.
  for (std::uint32_t block = 0; block < g().block_count; ++block) {
    ASSERT_TRUE(chip->erase(block));
    if (block < 4) {
      ASSERT_TRUE(chip->program({block, 0}, pattern(kPage, 50 + block), {}));
    }
  }
  auto foreign = attach_or_format(*chip, "usrdata");
  ASSERT_TRUE(foreign) << foreign.error().message();
  EXPECT_NE(foreign->formatted_because, "");
  EXPECT_TRUE(erased(read(*foreign->ubi, foreign->volume_id, 0, kPage)));
}

// A power cut at every NAND operation of: attach, an atomic change of LEB 0
// (5000 bytes over its 3 pages), the unmap of LEB 1, a two-page write to
// LEB 2 and the creation of a second volume. After each: the device
// attaches, LEB 0 holds the old or the new bytes (never a mix), LEB 1 the
// old bytes or none, the steps took effect in order, and the device takes
// writes again.
class UbiCutCase : public testing::ChipBranchingCase {
 public:
  UbiCutCase() : ChipBranchingCase(24, 16) {
    auto ubi = attached(chip_);
    EXPECT_TRUE(ubi->format());
    EXPECT_TRUE(ubi->create_volume(0, "data", VolumeType::dynamic, 8));
    EXPECT_TRUE(ubi->write_leb(0, 0, 0, old0_));
    EXPECT_TRUE(ubi->write_leb(0, 1, 0, old1_));
    start();
  }
  bool act() override {
    auto ubi = UbiDevice::attach(injector_);
    if (!ubi) return !chip_.powered();
    UbiDevice& u = **ubi;
    const bool done = u.change_leb(0, 0, new0_) && u.unmap_leb(0, 1) &&
                      u.write_leb(0, 2, 0, new2_) &&
                      u.create_volume(1, "extra", VolumeType::dynamic, 2);
    (void)done;
    return !chip_.powered();
  }
  campaign::Verdict verify(const campaign::CutPoint&) override {
    chip_.power_up();
    auto ubi = UbiDevice::attach(chip_);
    if (!ubi) return campaign::Verdict::fail("no attach", ubi.error().message());
    UbiDevice& u = **ubi;
    const auto leb0 = read(u, 0, 0, 3 * kPage);
    const bool new0 = leb0 == padded(new0_, 3 * kPage);
    if (!new0 && leb0 != old0_) return campaign::Verdict::fail("torn LEB 0", "neither old nor new");
    const auto leb1 = read(u, 0, 1, 2 * kPage);
    const bool gone1 = erased(leb1);
    if (!gone1 && leb1 != old1_)
      return campaign::Verdict::fail("torn LEB 1", "neither old nor gone");
    // LEB 2 is written page by page, not atomically: a page the cut tore
    // may not read at all (as on Linux, -EBADMSG); the file system above
    // copes with that.
    std::vector<std::uint8_t> leb2(2 * kPage);
    const bool leb2_readable = static_cast<bool>(u.read_leb(0, 2, 0, leb2));
    const bool wrote2 = !leb2_readable || !erased(leb2);
    const bool extra = u.find("extra") != nullptr;
    if ((gone1 && !new0) || (wrote2 && !gone1) || (extra && !wrote2))
      return campaign::Verdict::fail("out of order", "a later step took effect before an earlier");
    if (extra && leb2 != new2_) {
      return campaign::Verdict::fail("torn LEB 2",
                                     "the volume was created after LEB 2 was written");
    }
    const auto probe = pattern(kPage, 77);
    if (auto written = u.write_leb(0, 7, 0, probe); !written)
      return campaign::Verdict::fail("stuck", written.error().message());
    auto again = UbiDevice::attach(chip_);
    if (!again || read(**again, 0, 7, kPage) != probe)
      return campaign::Verdict::fail("stuck", "a write after the recovery did not persist");
    return campaign::Verdict::pass(std::string(new0 ? "new" : "old") + (gone1 ? ",unmapped" : "") +
                                   (wrote2 ? ",written" : "") + (extra ? ",created" : ""));
  }

 private:
  std::vector<std::uint8_t> old0_ = pattern(3 * kPage, 10);
  std::vector<std::uint8_t> old1_ = pattern(2 * kPage, 11);
  std::vector<std::uint8_t> new0_ = pattern(5000, 12);
  std::vector<std::uint8_t> new2_ = pattern(2 * kPage, 13);
};

TEST(UbiPowerCut, EveryOperationInEveryCutModeLeavesOldOrNewInOrder) {
  UbiCutCase c;
  campaign::Plan plan;
  plan.modes = {CutMode::before, CutMode::after, CutMode::torn_partial, CutMode::torn_unstable};
  const auto result = campaign::run_branched(c, plan);
  EXPECT_EQ(result.failed, 0u) << result.describe();
  EXPECT_GT(result.cuts, 4 * 50u) << result.describe();

  // Every stage of the action was reached by some cut.
  EXPECT_GT(result.count("old"), 0u) << result.describe();
  EXPECT_GT(result.count("new"), 0u) << result.describe();
  EXPECT_GT(result.count("new,unmapped,written,created"), 0u) << result.describe();
}

}  // namespace
}  // namespace vmodem::nand::ubi
