// The short stored frame (Codec::kStoredShort): two bytes less than a
// stored frame, read back as stored, written into format-2 packages only.
#include "codec.hpp"
#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

using detail::Codec;

TEST(ShortStored, FrameIsTwoBytesShorterAndReadsBackAsStored) {
  const Bytes raw{1, 2, 3};
  auto plain = detail::encode_stream_best(raw, {});
  auto short_form = detail::encode_stream_best(raw, {}, {}, true);
  ASSERT_TRUE(plain && short_form);
  EXPECT_EQ(*short_form, (Bytes{6, 3, 1, 2, 3}));
  EXPECT_EQ(plain->size(), short_form->size() + 2);
  detail::Reader reader(*short_form);
  auto frame = detail::read_frame(reader);
  ASSERT_TRUE(frame) << frame.error().message;
  EXPECT_EQ(frame->codec, Codec::kStored);
  EXPECT_EQ(frame->raw_size, 3u);
  EXPECT_EQ(Bytes(frame->payload.begin(), frame->payload.end()), raw);
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ShortStored, TruncatedOrAbsurdFramesAreRefused) {
  for (const Bytes& bad :
       {Bytes{6}, Bytes{6, 3, 1, 2}, Bytes{6, 0x80}, Bytes{6, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}}) {
    detail::Reader reader(bad);
    auto frame = detail::read_frame(reader);
    ASSERT_FALSE(frame) << bad.size();
    EXPECT_EQ(frame.error().code, ErrorCode::kBadPackage);
  }
}

// A one-byte change: tiny stored streams everywhere. Format 2 writes them
// short; format 1 keeps the frames its appliers know.
TEST(ShortStored, UsedInFormatTwoPackagesOnly) {
  auto old_fw = single(random_bytes(4000, 51), "1.0");
  auto new_fw = old_fw;
  new_fw.version = "1.1";
  new_fw.images[0].data[2000] ^= 1;
  auto options = fast_options();
  const Bytes v2 = make_or_die(old_fw, new_fw, options);
  options.format_version = kFormatVersion1;
  const Bytes v1 = make_or_die(old_fw, new_fw, options);
  auto h1 = parse_package(v1);
  auto h2 = parse_package(v2);
  ASSERT_TRUE(h1 && h2);
  const auto p1 = patch_bytes(v1, *h1, h1->images[0]);
  const auto p2 = patch_bytes(v2, *h2, h2->images[0]);
  ASSERT_EQ(h2->images[0].algorithm, PatchAlgorithm::kBsdiff);
  EXPECT_EQ(p2[0], static_cast<std::uint8_t>(Codec::kStoredShort)) << "control stream";
  EXPECT_EQ(p1[0], static_cast<std::uint8_t>(Codec::kStored));
  EXPECT_GE(p1.size(), p2.size() + 8) << "control, extra and two of the zero-run frames";
  for (const Bytes* package : {&v1, &v2}) {
    auto applied = apply_in_memory(*package, old_fw);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_EQ(applied->images[0].data, new_fw.images[0].data);
  }
}

}  // namespace
}  // namespace vmodem::fota::testing
