// The zero-run codec (Codec::kSparse): any byte string comes back exactly,
// whatever the read sizes; a diff-like stream packs smaller than plain LZMA;
// and a hostile payload is refused with kBadPackage instead of producing
// bytes the tokens do not account for.
#include "sparse_codec.hpp"

#include <random>

#include <gtest/gtest.h>

#include "codec.hpp"

namespace vmodem::fota::detail {
namespace {

CodecChoice choice(Codec codec) {
  CodecChoice c;
  c.codec = codec;
  c.lc = 0;
  c.pb = 0;
  return c;
}

Result<Bytes> decode(ByteView framed, std::size_t read_size) {
  Reader reader(framed);
  auto frame = read_frame(reader);
  if (!frame) return tl::unexpected(frame.error());
  auto decoder = make_decoder(*frame);
  if (!decoder) return tl::unexpected(decoder.error());
  Bytes out(frame->raw_size);
  for (std::size_t at = 0; at < out.size(); at += read_size) {
    const std::size_t n = std::min(read_size, out.size() - at);
    if (auto st = (*decoder)->read(std::span(out).subspan(at, n)); !st) {
      return tl::unexpected(st.error());
    }
  }
  return out;
}

// Mostly zeros with short runs of changed bytes, like a firmware diff.
Bytes diff_like(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(size, 0);
  for (std::size_t at = rng() % 64; at < size; at += 16 + rng() % 400) {
    const std::size_t run = 1 + rng() % 4;
    for (std::size_t i = at; i < std::min(size, at + run); ++i)
      out[i] = static_cast<std::uint8_t>(1 + rng() % 255);
  }
  return out;
}

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values)
    out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

TEST(SparseCodec, EveryShapeOfStreamComesBackExactly) {
  std::vector<Bytes> cases{
      {},
      Bytes(5000, 0),
      Bytes(300, 7),
      bytes({1, 0, 2, 0, 0, 3}),
      bytes({0, 0, 9, 9, 0}),
      bytes({4, 0, 0, 0, 0, 0, 0, 0}),
      diff_like(70'000, 1),
  };
  Bytes noise(20'000);
  std::mt19937 rng(2);
  for (auto& b : noise)
    b = static_cast<std::uint8_t>(rng());
  cases.push_back(noise);
  for (const auto& raw : cases) {
    auto framed = encode_stream(raw, choice(Codec::kSparse));
    ASSERT_TRUE(framed) << framed.error().message;
    for (std::size_t read_size :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, raw.size() + 1}) {
      auto back = decode(*framed, read_size);
      ASSERT_TRUE(back) << back.error().message << " (size " << raw.size() << ")";
      EXPECT_EQ(*back, raw) << "size " << raw.size() << ", reads of " << read_size;
    }
  }
}

TEST(SparseCodec, PacksADiffStreamSmallerThanPlainLzma) {
  const Bytes raw = diff_like(400'000, 3);
  auto sparse = encode_stream(raw, choice(Codec::kSparse));
  auto lzma = encode_stream(raw, choice(Codec::kLzma2));
  ASSERT_TRUE(sparse && lzma);
  EXPECT_LT(sparse->size(), lzma->size());
}

// A kSparse frame around hand-made parts (each a stored frame).
Bytes sparse_frame(std::uint64_t raw_size, std::initializer_list<Bytes> parts) {
  Bytes payload;
  for (const auto& part : parts) {
    auto framed = encode_stream(part, choice(Codec::kStored));
    put_bytes(payload, *framed);
  }
  Bytes out;
  put_u8(out, static_cast<std::uint8_t>(Codec::kSparse));
  put_u8(out, 16);
  put_varint(out, raw_size);
  put_varint(out, payload.size());
  put_bytes(out, payload);
  return out;
}

void expect_refused(const Bytes& framed, const char* why) {
  auto back = decode(framed, 4096);
  ASSERT_FALSE(back) << why;
  EXPECT_EQ(back.error().code, ErrorCode::kBadPackage) << why << ": " << back.error().message;
}

TEST(SparseCodec, HostilePayloadsAreRefused) {
  // A well-formed one first, so the refusals below are about what changed:
  // 2 zeros, then 1+1 literals from "ab", then trailing zeros.
  ASSERT_TRUE(decode(sparse_frame(6, {bytes({2}), bytes({1}), bytes({'a', 'b'})}), 4096));
  expect_refused(sparse_frame(6, {bytes({5}), bytes({1}), bytes({'a', 'b'})}),
                 "a run that overruns the raw size");
  expect_refused(
      sparse_frame(6, {bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),
                       bytes({0}), bytes({'a'})}),
      "a varint longer than 10 bytes");
  expect_refused(sparse_frame(6, {bytes({0, 0}), bytes({0}), bytes({'a', 'b'})}),
                 "more zero runs than literal lengths");
  expect_refused(sparse_frame(6, {bytes({2}), bytes({0}), bytes({'a', 'b'})}),
                 "literal bytes left over");
  expect_refused(sparse_frame(6, {bytes({2}), bytes({1}), bytes({'a'})}), "literals end early");
  expect_refused(
      sparse_frame(6,
                   {bytes({2}), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}),
                    bytes({'a'})}),
      "a literal length at the top of the range (must not wrap)");
  Bytes nested = sparse_frame(6, {bytes({2}), bytes({1}), bytes({'a', 'b'})});
  Bytes payload = *encode_stream(Bytes{}, choice(Codec::kStored));
  put_bytes(payload, nested);  // a sparse frame as a part
  put_bytes(payload, *encode_stream(Bytes{'a', 'b'}, choice(Codec::kStored)));
  Bytes outer;
  put_u8(outer, static_cast<std::uint8_t>(Codec::kSparse));
  put_u8(outer, 16);
  put_varint(outer, 6);
  put_varint(outer, payload.size());
  put_bytes(outer, payload);
  expect_refused(outer, "a part that is itself sparse");
  Bytes trailing = sparse_frame(6, {bytes({2}), bytes({1}), bytes({'a', 'b'})});
  trailing.push_back(0);
  // The outer frame's packed size no longer covers the byte: patch it in.
  trailing[3] = static_cast<std::uint8_t>(trailing[3] + 1);
  expect_refused(trailing, "bytes after the three parts");
}

}  // namespace
}  // namespace vmodem::fota::detail
