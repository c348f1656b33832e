// The module flash assembled from a profile.
#include <gtest/gtest.h>

#include <vmodem/simulator/flash.hpp>

#include "temp_dir.hpp"

namespace vmodem::sim {
namespace {

TEST(Flash, CreateManufacturesAndReopens) {
  vmodem::testing::TempDir dir;
  const auto profile = load_profile("bg77").value();
  std::vector<std::uint32_t> bad;
  {
    auto flash = Flash::open(profile, dir / "n.img", Flash::Mode::open_or_create, Seeds{5});
    ASSERT_TRUE(flash) << flash.error();
    EXPECT_TRUE((*flash)->created());
    bad = (*flash)->factory_bad_blocks();
    EXPECT_EQ(bad.size(), profile.factory_bad.count);
  }
  auto again = Flash::open(profile, dir / "n.img", Flash::Mode::open_or_create, Seeds{6});
  ASSERT_TRUE(again);
  EXPECT_FALSE((*again)->created());
  for (auto b : bad)
    EXPECT_TRUE((*again)->lock().chip().is_bad(b).value());
  auto efs = (*again)->partition("efs2");
  ASSERT_TRUE(efs);
  EXPECT_EQ((*efs)->spec().block_count, 32U);
  EXPECT_FALSE((*again)->partition("nope"));
}

TEST(Flash, SameSeedSameFactoryBadBlocks) {
  const auto profile = load_profile("bg95-m3").value();
  auto a = Flash::in_memory(profile, Seeds{77}).value();
  auto b = Flash::in_memory(profile, Seeds{77}).value();
  auto c = Flash::in_memory(profile, Seeds{78}).value();
  EXPECT_EQ(a->factory_bad_blocks(), b->factory_bad_blocks());
  EXPECT_NE(a->factory_bad_blocks(), c->factory_bad_blocks());
}

TEST(Flash, ImageOfAnotherProfileIsRefusedUntouched) {
  vmodem::testing::TempDir dir;
  {
    auto flash = Flash::open(load_profile("bg95-m3").value(), dir / "n.img",
                             Flash::Mode::create_new, Seeds{1});
    ASSERT_TRUE(flash);
  }
  const auto size = std::filesystem::file_size(dir / "n.img");
  auto other_geometry = Flash::open(load_profile("bg77").value(), dir / "n.img",
                                    Flash::Mode::open_existing, Seeds{1});
  ASSERT_FALSE(other_geometry);
  EXPECT_NE(other_geometry.error().find("1024 blocks"), std::string::npos)
      << other_geometry.error();
  auto same_geometry = Flash::open(load_profile("bg600l-m3").value(), dir / "n.img",
                                   Flash::Mode::open_existing, Seeds{1});
  ASSERT_FALSE(same_geometry);
  EXPECT_NE(same_geometry.error().find("made for profile 'bg95-m3'"), std::string::npos)
      << same_geometry.error();
  EXPECT_EQ(std::filesystem::file_size(dir / "n.img"), size);
  EXPECT_FALSE(Flash::open(load_profile("bg95-m3").value(), dir / "n.img", Flash::Mode::create_new,
                           Seeds{1}));
}

}  // namespace
}  // namespace vmodem::sim
