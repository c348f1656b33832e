// Thumb-2 reference projection (patch algorithm 3): chosen automatically on
// Cortex-M images, smaller than plain bsdiff when code moves, exact on
// apply, and its region tables are checked before anything is written.
#include "test_support.hpp"
#include "thumb2_image.hpp"

namespace vmodem::fota::testing {
namespace {

constexpr std::uint32_t kFlash = 0x08000000;

// An old image and its update: instructions inserted into function 3 move
// every later function, so most BL/B.W/LDR/pool references change.
struct Thumb2Case {
  explicit Thumb2Case(std::uint32_t base = kFlash, Thumb2Mix mix = {}) {
    auto program = random_thumb2_program(60, 7, mix);
    old_fw = single(Thumb2Assembler::assemble(program, base), "1.0");
    auto& ops = program[3].ops;
    ops.insert(ops.begin() + 5, 6, Thumb2Op{Thumb2Op::kFiller, 0x2142});
    new_fw = single(Thumb2Assembler::assemble(program, base), "1.1");
  }
  FirmwareBundle old_fw, new_fw;
};

GeneratorOptions options_for(Architecture architecture) {
  auto options = fast_options();
  options.architecture = architecture;
  return options;
}

Result<GeneratedPackage> make(const Thumb2Case& c, const GeneratorOptions& options) {
  return make_package(c.old_fw, c.new_fw, options);
}

void expect_applies(const Bytes& package, const Thumb2Case& c) {
  auto applied = apply_in_memory(package, c.old_fw);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->images[0].data, c.new_fw.images[0].data);
}

TEST(Thumb2, ProjectionIsChosenForACortexMImageAndBeatsPlainBsdiff) {
  const Thumb2Case c;
  auto plain = make(c, options_for(Architecture::kNone));
  auto projected = make(c, options_for(Architecture::kAuto));
  ASSERT_TRUE(plain && projected);
  EXPECT_EQ(plain->stats.images[0].algorithm, PatchAlgorithm::kBsdiff);
  EXPECT_EQ(projected->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2);
  // Projection leaves little but the inserted instructions to pay for.
  EXPECT_LT(projected->stats.images[0].patch_size * 2, plain->stats.images[0].patch_size)
      << projected->stats.images[0].patch_size << " vs " << plain->stats.images[0].patch_size;
  expect_applies(projected->bytes, c);
}

// Each kind of reference on its own: the projection must fix it (a broken
// decoder for one kind would leave its diff to pay).
TEST(Thumb2, EachReferenceKindIsProjected) {
  // The LDR mix changes fewer bytes to begin with (pool words of moved
  // functions, loads in the grown function), so it gains less.
  const struct {
    const char* what;
    Thumb2Mix mix;
    double at_most;  // projected / plain patch size
  } mixes[] = {
      {"BL only", {true, false, false}, 0.5},
      {"B.W only", {false, true, false}, 0.5},
      {"LDR literal and pool words only", {false, false, true}, 0.75},
  };
  for (const auto& [what, mix, at_most] : mixes) {
    const Thumb2Case c(kFlash, mix);
    auto plain = make(c, options_for(Architecture::kNone));
    auto projected = make(c, options_for(Architecture::kThumb2));
    ASSERT_TRUE(plain && projected);
    EXPECT_EQ(projected->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2) << what;
    EXPECT_LT(static_cast<double>(projected->stats.images[0].patch_size),
              at_most * static_cast<double>(plain->stats.images[0].patch_size))
        << what << ": " << projected->stats.images[0].patch_size << " vs "
        << plain->stats.images[0].patch_size;
    expect_applies(projected->bytes, c);
  }
}

TEST(Thumb2, ThoroughOptionsRoundTripToo) {
  const Thumb2Case c;
  GeneratorOptions options;  // thorough, verifies itself
  auto package = make(c, options);
  ASSERT_TRUE(package) << package.error().message;
  EXPECT_EQ(package->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2);
  expect_applies(package->bytes, c);
}

TEST(Thumb2, ImageLoadedAtZeroIsDetected) {
  const Thumb2Case c(0);
  auto package = make(c, options_for(Architecture::kAuto));
  ASSERT_TRUE(package);
  EXPECT_EQ(package->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2);
  expect_applies(package->bytes, c);
}

TEST(Thumb2, XtensaOnlyDoesNotProjectArmCode) {
  const Thumb2Case c;
  auto package = make(c, options_for(Architecture::kXtensa));
  ASSERT_TRUE(package);
  EXPECT_EQ(package->stats.images[0].algorithm, PatchAlgorithm::kBsdiff);
}

// Without a vector table (here: a 256-byte header in front) nothing is
// detected, and a named load address brings the projection back.
TEST(Thumb2, NamedLoadAddressProjectsAnImageWithoutVectorTable) {
  Thumb2Case c(kFlash + 256);
  for (auto* fw : {&c.old_fw, &c.new_fw}) {
    auto& data = fw->images[0].data;
    data.insert(data.begin(), 256, 0xFF);
  }
  auto detected = make(c, options_for(Architecture::kAuto));
  ASSERT_TRUE(detected);
  EXPECT_EQ(detected->stats.images[0].algorithm, PatchAlgorithm::kBsdiff);
  auto options = options_for(Architecture::kThumb2);
  options.load_address = kFlash;
  auto named = make(c, options);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2);
  EXPECT_LT(named->stats.images[0].patch_size, detected->stats.images[0].patch_size);
  expect_applies(named->bytes, c);
}

TEST(Thumb2, RandomDataIsNotMistakenForAnImage) {
  const auto fw = single(random_bytes(20000, 5), "1.0");
  auto other = fw;
  other.version = "1.1";
  other.images[0].data[5000] ^= 1;
  auto package = make_package(fw, other, fast_options());
  ASSERT_TRUE(package);
  EXPECT_EQ(package->stats.images[0].algorithm, PatchAlgorithm::kBsdiff);
}

// The region tables of a Thumb-2 patch open its payload: u8 count, then
// per region u32 offset | u32 length | u32 address, for old, then for new.
// A table that does not fit its image, claims too many regions or runs past
// the patch is refused before a byte is written.
TEST(Thumb2, CorruptRegionTableIsRefusedBeforeWriting) {
  const Thumb2Case c;
  auto generated = make(c, options_for(Architecture::kThumb2));
  ASSERT_TRUE(generated);
  ASSERT_EQ(generated->stats.images[0].algorithm, PatchAlgorithm::kBsdiffThumb2);
  const std::size_t payload = parse_package(generated->bytes)->header_length;
  ASSERT_EQ(generated->bytes[payload], 1) << "one region: the whole image";
  const std::size_t new_table = payload + 13;
  ASSERT_EQ(generated->bytes[new_table], 1);
  struct Mutation {
    const char* what;
    std::size_t at;
    std::vector<std::uint8_t> bytes;
  };
  const std::vector<Mutation> mutations = {
      {"17 regions", payload, {17}},
      {"200 regions, past the patch", payload, {200}},
      {"old length past old", payload + 8, {0x7F}},
      {"old offset past old", payload + 4, {0x01}},
      {"old address wraps 4 GiB", payload + 9, {0xFF, 0xFF, 0xFF, 0xFF}},
      {"new length past new", new_table + 8, {0x01}},
      {"new table count 0xFF", new_table, {0xFF}},
  };
  for (const auto& m : mutations) {
    Bytes bytes = generated->bytes;
    std::copy(m.bytes.begin(), m.bytes.end(), bytes.begin() + static_cast<std::ptrdiff_t>(m.at));
    reseal(bytes);
    BundleSource source(c.old_fw);
    auto applier = Applier::open(bytes, source, {});
    if (!applier) {
      EXPECT_EQ(applier.error().code, ErrorCode::kBadPackage) << m.what;
      continue;
    }
    BundleSink sink;
    auto st = (*applier)->run(sink);
    ASSERT_FALSE(st) << "accepted: " << m.what;
    EXPECT_EQ(st.error().code, ErrorCode::kBadPackage) << m.what << ": " << st.error().message;
    EXPECT_EQ(sink.bytes_written(), 0u) << m.what;
  }
}

// A region table that is valid but wrong (another load address) still
// applies exactly: generator and applier project identically.
TEST(Thumb2, WrongButValidRegionTableStillReproducesTheTarget) {
  const Thumb2Case c;
  auto generated = make(c, options_for(Architecture::kThumb2));
  ASSERT_TRUE(generated);
  Bytes bytes = generated->bytes;
  const std::size_t payload = parse_package(generated->bytes)->header_length;
  bytes[payload + 1 + 8 + 3] ^= 0x10;  // old region's address, top byte
  reseal(bytes);
  auto applied = apply_in_memory(bytes, c.old_fw);
  // The diff was computed against the other projection: either the digest
  // check refuses the result, or (if nothing projected differently) it matches.
  if (applied) {
    EXPECT_EQ(applied->images[0].data, c.new_fw.images[0].data);
  } else {
    EXPECT_EQ(applied.error().code, ErrorCode::kUnpackFailed) << applied.error().message;
  }
}

}  // namespace
}  // namespace vmodem::fota::testing
