// AArch64 reference projection (patch algorithm 4): chosen automatically on
// images holding A64 code, smaller than plain bsdiff when code moves, exact
// on apply, each reference kind projected, and never offered for images
// that are not A64 code.
#include "aarch64_image.hpp"
#include "arm_image.hpp"
#include "test_support.hpp"
#include "thumb2_image.hpp"

namespace vmodem::fota::testing {
namespace {

constexpr std::uint32_t kLoad = 0x40080000;

// An old image and its update: instructions inserted into the middle of
// every fourth function move every later function, all data, and the pools
// of the grown functions.
struct A64Case {
  explicit A64Case(A64Mix mix = {}, std::uint32_t base = kLoad) {
    auto program = random_a64_program(60, 11, mix);
    old_fw = single(A64Assembler::assemble(program, base), "1.0");
    for (std::size_t f = 3; f < program.size(); f += 4) {
      auto& ops = program[f].ops;
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(ops.size() / 2), 6,
                 A64Op{A64Op::kFiller, 0xD2800021});
    }
    new_fw = single(A64Assembler::assemble(program, base), "1.1");
  }
  FirmwareBundle old_fw, new_fw;
};

GeneratorOptions a64_options(Architecture architecture,
                             std::optional<std::uint32_t> load_address = std::nullopt) {
  auto options = fast_options();
  options.architecture = architecture;
  options.load_address = load_address;
  return options;
}

const ImageStats& made(const Result<GeneratedPackage>& package) {
  return package->stats.images.at(0);
}

void expect_applies(const Bytes& package, const A64Case& c) {
  auto applied = apply_in_memory(package, c.old_fw);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->images[0].data, c.new_fw.images[0].data);
}

TEST(Aarch64, ProjectionIsChosenForAnA64ImageAndBeatsPlainBsdiff) {
  const A64Case c;
  ASSERT_TRUE(detail::looks_like_aarch64(c.old_fw.images[0].data));
  auto plain = make_package(c.old_fw, c.new_fw, a64_options(Architecture::kNone));
  auto projected = make_package(c.old_fw, c.new_fw, a64_options(Architecture::kAuto));
  ASSERT_TRUE(plain && projected);
  EXPECT_EQ(made(plain).algorithm, PatchAlgorithm::kBsdiff);
  EXPECT_EQ(made(projected).algorithm, PatchAlgorithm::kBsdiffAarch64);
  EXPECT_LT(made(projected).patch_size * 2, made(plain).patch_size)
      << made(projected).patch_size << " vs " << made(plain).patch_size;
  expect_applies(projected->bytes, c);
}

// Each kind of reference on its own must gain: a broken decoder or encoder
// for one kind would leave its diff to pay.
TEST(Aarch64, EachReferenceKindIsProjected) {
  const struct {
    const char* what;
    A64Mix mix;
  } kinds[] = {
      {"BL", {true, false, false, false}},
      {"ADRP+ADD", {false, true, false, false}},
      {"ADRP+LDR", {false, false, true, false}},
      {"LDR literal", {false, false, false, true}},
  };
  for (const auto& kind : kinds) {
    const A64Case c(kind.mix);
    auto plain = make_package(c.old_fw, c.new_fw, a64_options(Architecture::kNone));
    auto projected = make_package(c.old_fw, c.new_fw, a64_options(Architecture::kAarch64));
    ASSERT_TRUE(plain && projected) << kind.what;
    EXPECT_EQ(made(projected).algorithm, PatchAlgorithm::kBsdiffAarch64) << kind.what;
    EXPECT_LT(made(projected).patch_size * 10, made(plain).patch_size * 8)
        << kind.what << ": " << made(projected).patch_size << " vs " << made(plain).patch_size;
    expect_applies(projected->bytes, c);
  }
}

// PC-relative references project alike at the named load address (where
// aligned pointers would project too) and in format 1.
TEST(Aarch64, NamedLoadAddressAndFormatOneApply) {
  const A64Case c;
  auto options = a64_options(Architecture::kAarch64, kLoad);
  auto named = make_package(c.old_fw, c.new_fw, options);
  ASSERT_TRUE(named);
  EXPECT_EQ(made(named).algorithm, PatchAlgorithm::kBsdiffAarch64);
  expect_applies(named->bytes, c);
  options.format_version = kFormatVersion1;
  auto v1 = make_package(c.old_fw, c.new_fw, options);
  ASSERT_TRUE(v1);
  EXPECT_EQ(parse_package(v1->bytes)->images[0].algorithm, PatchAlgorithm::kBsdiffAarch64);
  expect_applies(v1->bytes, c);
}

TEST(Aarch64, NotDetectedInDataOrThumbCode) {
  EXPECT_FALSE(detail::looks_like_aarch64(random_bytes(200000, 12)));
  const auto thumb = Thumb2Assembler::assemble(random_thumb2_program(60, 7), 0x08000000);
  EXPECT_FALSE(detail::looks_like_aarch64(thumb));
  EXPECT_FALSE(detail::looks_like_aarch64({}));
  // A Cortex-M image gets no AArch64 candidate in auto mode.
  auto old_fw = single(thumb, "1.0");
  auto new_fw = old_fw;
  new_fw.version = "1.1";
  new_fw.images[0].data[1000] ^= 1;
  auto package = make_package(old_fw, new_fw, a64_options(Architecture::kAuto));
  ASSERT_TRUE(package);
  EXPECT_NE(made(package).algorithm, PatchAlgorithm::kBsdiffAarch64);
}

}  // namespace
}  // namespace vmodem::fota::testing
