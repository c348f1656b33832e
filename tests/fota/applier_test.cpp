// The applier's contract: checks before writing, progress, resume, sinks.
#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

struct Fixture {
  FirmwareBundle old_fw = single(random_bytes(40'000, 31), "1.0");
  FirmwareBundle new_fw = [this] {
    auto fw = old_fw;
    fw.version = "1.1";
    auto& d = fw.images[0].data;
    d.insert(d.begin() + 20'000, 300, 0xAB);
    for (std::size_t i = 0; i < d.size(); i += 501)
      d[i] = 0;
    return fw;
  }();
  Bytes package = make_or_die(old_fw, new_fw);
};

// Counts writes and can fail the N-th one (a power cut seen from the sink).
class FlakySink final : public TargetSink {
 public:
  explicit FlakySink(BundleSink& inner, int fail_at_write = -1)
      : inner_(inner), fail_at_(fail_at_write) {}
  Status begin_image(std::size_t i, const PackageImage& image, std::uint64_t resume) override {
    return inner_.begin_image(i, image, resume);
  }
  Status write(std::uint64_t offset, ByteView chunk) override {
    if (writes_++ == fail_at_) return fail(ErrorCode::kAborted, "power cut");
    return inner_.write(offset, chunk);
  }
  Status end_image(std::size_t i, const PackageImage& image) override {
    return inner_.end_image(i, image);
  }
  int writes() const { return writes_; }

 private:
  BundleSink& inner_;
  int fail_at_;
  int writes_ = 0;
};

TEST(Applier, SourceDigestMismatchIsRefusedBeforeWriting) {
  Fixture f;
  auto wrong = f.old_fw;
  wrong.images[0].data[123] ^= 1;
  BundleSource source(wrong);
  auto applier = Applier::open(f.package, source);
  ASSERT_FALSE(applier);
  EXPECT_EQ(applier.error().code, ErrorCode::kFirmwareMismatch);
  EXPECT_EQ(end_code(applier.error().code), 510);
}

TEST(Applier, MissingSourceImageIsAMismatch) {
  Fixture f;
  const auto other = single(f.old_fw.images[0].data, "1.0", "other-name");
  auto result = apply_in_memory(f.package, other);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kFirmwareMismatch);
}

TEST(Applier, WrongModelAndWrongVersionAreMismatches) {
  Fixture f;
  ApplyOptions model;
  model.expected_model = "BG95-M3";
  auto r1 = apply_in_memory(f.package, f.old_fw, model);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, ErrorCode::kFirmwareMismatch);
  ApplyOptions version;
  version.current_version = "0.9";
  auto r2 = apply_in_memory(f.package, f.old_fw, version);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::kFirmwareMismatch);
  ApplyOptions right;
  right.expected_model = "TEST-MODEL";
  right.current_version = "1.0";
  EXPECT_TRUE(apply_in_memory(f.package, f.old_fw, right));
}

TEST(Applier, NotEnoughSpaceIs511) {
  Fixture f;
  ApplyOptions options;
  options.max_target_bytes = f.new_fw.images[0].data.size() - 1;
  auto result = apply_in_memory(f.package, f.old_fw, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNoSpace);
  EXPECT_EQ(end_code(result.error().code), 511);
}

TEST(Applier, ProgressRisesMonotonicallyTo100) {
  Fixture f;
  std::vector<int> seen;
  ApplyOptions options;
  options.chunk_size = 256;
  options.on_progress = [&](int pct) { seen.push_back(pct); };
  ASSERT_TRUE(apply_in_memory(f.package, f.old_fw, options));
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(seen.back(), 100);
  EXPECT_GE(seen.size(), 50u);  // 40 KB in 256-byte chunks: nearly every percent
}

TEST(Applier, ChunksAreFixedSizeAndInOrder) {
  Fixture f;
  BundleSource source(f.old_fw);
  ApplyOptions options;
  options.chunk_size = 1000;
  auto applier = Applier::open(f.package, source, options);
  ASSERT_TRUE(applier);
  BundleSink sink;  // enforces order and bounds itself
  FlakySink counting(sink);
  ASSERT_TRUE((*applier)->run(counting));
  const auto size = f.new_fw.images[0].data.size();
  EXPECT_EQ(counting.writes(), static_cast<int>((size + 999) / 1000));
}

TEST(Applier, ProgressRecordSerialisesAndRejectsTornRecords) {
  ApplyProgress p;
  p.image_index = 3;
  p.image_offset = 123'456;
  p.package_id[0] = 0xAA;
  const auto record = p.serialize();
  ASSERT_EQ(record.size(), ApplyProgress::kSerializedSize);
  auto back = ApplyProgress::deserialize(record);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
  for (std::size_t i = 0; i < record.size(); ++i) {
    auto torn = record;
    torn[i] ^= 0x10;
    EXPECT_FALSE(ApplyProgress::deserialize(torn)) << "flip at " << i;
  }
  EXPECT_FALSE(ApplyProgress::deserialize(std::span(record).first(59)));
}

// Interrupt after every k-th write, persist the record, reopen the package
// and resume in a fresh applier: the result must be identical every time.
TEST(Applier, ResumeAfterInterruptionAtEveryChunkGivesTheIdenticalTarget) {
  Fixture f;
  ApplyOptions options;
  options.chunk_size = 4096;
  const auto expected = f.new_fw.images[0].data;
  const int total_writes = static_cast<int>((expected.size() + 4095) / 4096);
  for (int cut = 0; cut < total_writes; ++cut) {
    BundleSink sink;
    std::vector<std::uint8_t> journal;
    {
      BundleSource source(f.old_fw);
      auto applier = Applier::open(f.package, source, options);
      ASSERT_TRUE(applier);
      FlakySink flaky(sink, cut);
      for (;;) {
        auto done = (*applier)->step(flaky);
        if (!done) break;  // the power cut
        journal = (*applier)->progress().serialize();
        ASSERT_FALSE(*done) << "finished despite the cut at " << cut;
      }
    }
    // The partially written image survives in "flash": carry it over.
    auto record =
        ApplyProgress::deserialize(journal.empty() ? ApplyProgress{}.serialize() : journal);
    ASSERT_TRUE(record);
    BundleSource source(f.old_fw);
    auto applier = Applier::open(f.package, source, options);
    ASSERT_TRUE(applier);
    ApplyProgress state = *record;
    if (journal.empty()) state.package_id = (*applier)->progress().package_id;
    ASSERT_TRUE((*applier)->resume(state)) << "cut " << cut;
    ASSERT_TRUE((*applier)->run(sink)) << "cut " << cut;
    ASSERT_NE(sink.bundle().find("firmware"), nullptr);
    EXPECT_EQ(sink.bundle().find("firmware")->data, expected) << "cut " << cut;
  }
}

TEST(Applier, ResumeRefusesAnotherPackagesState) {
  Fixture f;
  BundleSource source(f.old_fw);
  auto applier = Applier::open(f.package, source);
  ASSERT_TRUE(applier);
  ApplyProgress foreign;
  foreign.package_id[0] = 1;
  auto st = (*applier)->resume(foreign);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kBadPackage);
  ApplyProgress beyond = (*applier)->progress();
  beyond.image_offset = 1'000'000;
  EXPECT_FALSE((*applier)->resume(beyond));
}

TEST(Applier, SinkErrorsAbortAndAreReturned) {
  Fixture f;
  BundleSource source(f.old_fw);
  auto applier = Applier::open(f.package, source);
  ASSERT_TRUE(applier);
  BundleSink sink;
  FlakySink flaky(sink, 2);
  auto st = (*applier)->run(flaky);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kAborted);
  EXPECT_EQ(end_code(st.error().code), 502);
}

}  // namespace
}  // namespace vmodem::fota::testing
