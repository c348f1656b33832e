// Counters on flash that cannot count further: a boot record whose
// generation, or a journal record whose sequence number, is already
// UINT64_MAX. The library never writes such a record (both count up from 1),
// but a module can meet one on flash (another writer, a corrupted yet
// checksummed page). Wrapping the counter to 0 would leave that stale record
// the newest one read back, so a new record would be silently ignored at the
// next boot. Regression tests for the fixes first found by the fuzzers (seeds
// generation_exhausted and sequence_exhausted in tests/fuzz/fota/corpus/).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <vmodem/nand/partition.hpp>

#include "../fuzz/fota/nand_fuzz_fixture.hpp"  // seal(): the fuzzers' record framing
#include "nand_fixture.hpp"

namespace vmodem::fota::testing {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::string_view kJournalMagic = "VMJL";

// Erases logical block `block` of `spec` and programs `pages` in order, each
// padded with 0xFF to a page: the layout the library itself writes.
void write_block(nand::Device& device, const nand::PartitionSpec& spec, std::uint32_t block,
                 const std::vector<Bytes>& pages) {
  auto partition = nand::Partition::open(device, spec);
  ASSERT_TRUE(partition) << partition.error().message();
  ASSERT_TRUE((*partition)->erase(block));
  const std::uint32_t page_size = (*partition)->geometry().page_size;
  for (std::uint32_t p = 0; p < pages.size(); ++p) {
    ASSERT_LE(pages[p].size(), page_size);
    Bytes page(page_size, 0xFF);
    std::copy(pages[p].begin(), pages[p].end(), page.begin());
    ASSERT_TRUE((*partition)->program({block, p}, page, {}));
  }
}

// ---- Boot record generation ----------------------------------------------

// Replaces boot record copy `copy` with `record` (a sealed record page, then
// the seal page of zeros, as the store writes it).
void write_boot_record(NandFixture& nand, int copy, const BootRecord& record) {
  write_block(nand.injector(), small_layout().boot_record, static_cast<std::uint32_t>(copy),
              {record.serialize(), Bytes(16, 0)});
}

// V1 installed in slot A, its record (the one in force) rewritten with the
// last generation. The store opened over it.
std::unique_ptr<FirmwareStore> store_at_last_generation(NandFixture& nand) {
  nand.install(synthetic_firmware(1));
  BootRecord exhausted = nand.store()->records().at(0);
  exhausted.generation = kMax;
  write_boot_record(nand, exhausted.copy, exhausted);
  return nand.store();
}

void expect_in_force_at_last_generation(const FirmwareStore& store) {
  ASSERT_EQ(store.records().size(), 1u);
  ASSERT_EQ(store.records().front().generation, kMax);  // the crafted record is read
}

// After a power cycle the module still boots V1 from slot A, and the other
// record copy was left alone.
void expect_v1_still_boots(NandFixture& nand) {
  auto reopened = nand.store();
  ASSERT_EQ(reopened->records().size(), 1u);
  EXPECT_EQ(reopened->records().front().generation, kMax);
  EXPECT_EQ(reopened->records().front().version, "V1.0");
  auto loaded = nand.running();
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_FALSE(loaded->fell_back);
  EXPECT_EQ(loaded->record.slot, 0);
  EXPECT_TRUE(same_images(loaded->bundle, synthetic_firmware(1)));
}

void expect_generation_refusal(const Status& status) {
  // Not fatal: the checks after it show what such a "commit" left on flash.
  EXPECT_FALSE(status) << "a record that could never be in force was reported committed";
  if (status) return;
  EXPECT_EQ(status.error().code, ErrorCode::kBadPackage);
  EXPECT_NE(status.error().message.find("generation"), std::string::npos) << status.error().message;
}

// What the boot-time update commits once V2's images are in slot B.
TEST(GenerationWrap, CommitRefusesAtTheLastGenerationAndTheOldFirmwareKeepsBooting) {
  NandFixture nand;
  auto store = store_at_last_generation(nand);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(expect_in_force_at_last_generation(*store));
  const BootRecord running = store->records().front();
  const auto v2 = synthetic_firmware(2);
  BootRecord next = running;
  next.slot = 1;
  next.version = v2.version;
  next.images.clear();
  for (const auto& image : v2.images)
    next.images.push_back({image.name, image.data.size(), sha256(image.data)});
  expect_generation_refusal(store->commit(next, &running));
  EXPECT_EQ(store->records().front().generation, kMax);
  expect_v1_still_boots(nand);
}

// The same through install() (the simulator's factory reinstall): V2's
// images get written to slot B, but the switch to them is refused.
TEST(GenerationWrap, InstallRefusesAtTheLastGenerationAndTheOldFirmwareKeepsBooting) {
  NandFixture nand;
  auto store = store_at_last_generation(nand);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(expect_in_force_at_last_generation(*store));
  const BootRecord running = store->records().front();
  expect_generation_refusal(store->install(synthetic_firmware(2), &running));
  expect_v1_still_boots(nand);
}

// ---- Journal sequence number ----------------------------------------------

Bytes u64_le(std::uint64_t v) {
  Bytes out;
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}

// A journal page: sequence number + ApplyProgress, sealed.
Bytes journal_page(std::uint64_t seq, const ApplyProgress& progress) {
  Bytes body = u64_le(seq);
  const auto record = progress.serialize();
  body.insert(body.end(), record.begin(), record.end());
  return fuzz::seal(kJournalMagic, body);
}

ApplyProgress progress(const Digest& package_id, std::uint32_t image, std::uint64_t offset) {
  ApplyProgress p;
  p.package_id = package_id;
  p.image_index = image;
  p.image_offset = offset;
  return p;
}

std::string describe(const ApplyProgress& p) {
  return "image " + std::to_string(p.image_index) + " offset " + std::to_string(p.image_offset);
}

// The newest journal record of `package_id` a fresh open (a boot) finds is
// `expected`.
void expect_read_back(NandFixture& nand, const Digest& package_id, const ApplyProgress& expected) {
  auto area = nand.area();
  ASSERT_NE(area, nullptr);
  auto found = area->last_progress(package_id);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value()) << "no journal record read back";
  EXPECT_TRUE(**found == expected)
      << "read back " << describe(**found) << ", expected " << describe(expected);
}

void record(NandFixture& nand, const ApplyProgress& progress) {
  auto area = nand.area();
  ASSERT_NE(area, nullptr);
  auto ok = area->record_progress(progress);
  ASSERT_TRUE(ok) << ok.error().message;
}

struct StaleJournal {
  std::uint32_t block;  // journal block holding the records
  std::uint32_t pages;  // records in it, the last one at sequence UINT64_MAX
};

void PrintTo(const StaleJournal& j, std::ostream* os) {
  *os << j.pages << " records in journal block " << j.block;
}

class JournalWrap : public ::testing::TestWithParam<StaleJournal> {};

// Recording progress over a journal whose newest record carries UINT64_MAX
// must start the journal afresh, so the new record is the one read back
// after a power cycle (the update resumes from it, not from the stale one);
// the staged package stays.
TEST_P(JournalWrap, ProgressRecordedAtTheLastSequenceIsTheOneReadBack) {
  const auto [block, pages] = GetParam();
  NandFixture nand;
  const Bytes package = random_bytes(5000, 21);
  ASSERT_NO_FATAL_FAILURE(nand.stage(package));  // clears the journal: craft it after
  const Digest id = sha256(package);             // stands in for the package id

  std::vector<Bytes> journal;
  for (std::uint32_t p = 0; p < pages; ++p)
    journal.push_back(journal_page(kMax - (pages - 1 - p), progress(id, 0, 1000 * (p + 1))));
  ASSERT_NO_FATAL_FAILURE(write_block(nand.injector(), small_fota(), block, journal));
  ASSERT_NO_FATAL_FAILURE(expect_read_back(nand, id, progress(id, 0, 1000 * pages)));

  const ApplyProgress fresh = progress(id, 1, 4096);
  ASSERT_NO_FATAL_FAILURE(record(nand, fresh));
  ASSERT_NO_FATAL_FAILURE(expect_read_back(nand, id, fresh));

  // The restarted journal keeps counting: a further record wins in turn.
  const ApplyProgress further = progress(id, 1, 8192);
  ASSERT_NO_FATAL_FAILURE(record(nand, further));
  ASSERT_NO_FATAL_FAILURE(expect_read_back(nand, id, further));

  auto staged = nand.area()->staged();
  ASSERT_TRUE(staged && *staged);
  EXPECT_TRUE((*staged)->intact);
  EXPECT_EQ((*staged)->bytes, package);
}

// A few records in the first block; the second block full up to its last page
// (the next record would go to the other block).
INSTANTIATE_TEST_SUITE_P(StaleJournals, JournalWrap,
                         ::testing::Values(StaleJournal{0, 3},
                                           StaleJournal{1, small_geometry().pages_per_block}),
                         [](const auto& param_info) {
                           return "block" + std::to_string(param_info.param.block) + "_" +
                                  std::to_string(param_info.param.pages) + "records";
                         });

}  // namespace
}  // namespace vmodem::fota::testing
