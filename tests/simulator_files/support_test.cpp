// The helpers behind the file commands: checksum, name rules, patterns.

#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "file_fixture.hpp"
#include "file_support.hpp"

namespace vmodem::sim::testing {
namespace {

using files::Checksum;
using files::glob_match;
using files::parse_name;

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Checksum, KnownValues) {
  Checksum empty;
  EXPECT_EQ(empty.hex(), "0");
  Checksum ab;
  ab.add(bytes_of("ab"));
  EXPECT_EQ(ab.value(), 0x6162);
  EXPECT_EQ(ab.hex(), "6162");
  Checksum odd;  // "abc": 0x6162 ^ 0x6300
  odd.add(bytes_of("abc"));
  EXPECT_EQ(odd.hex(), "262");
  Checksum same;  // equal words cancel out
  same.add(bytes_of("abab"));
  EXPECT_EQ(same.hex(), "0");
}

TEST(Checksum, PiecesOfAnyLengthGiveTheWholeSum) {
  const std::string data = random_bytes(5001, 3);
  for (std::size_t piece : {1U, 2U, 3U, 7U, 1024U, 4096U}) {
    Checksum sum;
    for (std::size_t at = 0; at < data.size(); at += piece)
      sum.add(bytes_of(std::string_view(data).substr(at, piece)));
    EXPECT_EQ(sum.hex(), quectel_checksum(data)) << "piece " << piece;
  }
}

TEST(Glob, StarAndQuestionMark) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything.bin"));
  EXPECT_TRUE(glob_match("*.txt", "a.txt"));
  EXPECT_FALSE(glob_match("*.txt", "a.txt.bak"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*a*b*c", "xxaxxbxxc"));
  EXPECT_FALSE(glob_match("*a*b*c", "xxaxxcxxb"));
  EXPECT_TRUE(glob_match("f??e*", "file.dat"));
  EXPECT_FALSE(glob_match("file", "File"));
  // A pathological pattern stays fast (no exponential backtracking).
  EXPECT_FALSE(glob_match(std::string(40, '*') + "b", std::string(60, 'a')));
}

TEST(Names, AcceptedAndStripped) {
  const auto name = [](std::string text) {
    return parse_name(at::Argument::string(std::move(text), true), false, 64);
  };
  EXPECT_EQ(name("test.txt").value(), "test.txt");
  EXPECT_EQ(name("UFS:test.txt").value(), "test.txt");
  EXPECT_EQ(name("ufs:a b").value(), "a b");
  EXPECT_EQ(name(std::string(64, 'x')).value(), std::string(64, 'x'));
}

TEST(Names, EscapesAndOddBytesAreInvalid) {
  const auto code = [](std::string text, bool wildcards = false) {
    auto parsed = parse_name(at::Argument::string(std::move(text), true), wildcards, 64);
    return parsed ? 0 : parsed.error();
  };
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "../etc/passwd", "/etc/passwd", "a/b", "a\\b",
                                "UFS:", "UFS:../x", "RAM:x", std::string("a\0b", 3), "a\r",
                                std::string(65, 'x'), ".qfupl", "UFS:.qfupl", "a*", "a?", "q\"t"}) {
    EXPECT_EQ(code(bad), 406) << bad;
  }
  EXPECT_EQ(code("*.txt", true), 0);
  const auto number = parse_name(at::Argument::integer(5), false, 64);
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error(), 400);
  EXPECT_EQ(parse_name(at::Argument(), false, 64).error(), 400);
}

}  // namespace
}  // namespace vmodem::sim::testing
