// json_text(): host bytes that are not UTF-8 reach JSON output as `\xHH`
// instead of aborting the serialiser.

#include "json_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vmodem::sim {
namespace {

TEST(JsonText, ValidUtf8PassesUnchanged) {
  for (const std::string s : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x93\xA1"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(json_text(s), s);
  }
}

TEST(JsonText, InvalidBytesBecomeHexEscapes) {
  EXPECT_EQ(json_text("bad\xFFname"), "bad\\xFFname");
  EXPECT_EQ(json_text("\xC3"), "\\xC3");                             // truncated sequence
  EXPECT_EQ(json_text("\xC0\x80"), "\\xC0\\x80");                    // overlong NUL
  EXPECT_EQ(json_text("\xED\xA0\x80"), "\\xED\\xA0\\x80");           // surrogate
  EXPECT_EQ(json_text("\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(json_text("\x80"
                      "caf\xC3\xA9"),
            "\\x80caf\xC3\xA9");
}

TEST(JsonText, ResultAlwaysSerialises) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b)
    every_byte += static_cast<char>(b);
  const std::string text = json_text(every_byte);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_NO_THROW((void)nlohmann::json(text).dump());
  EXPECT_FALSE(is_valid_utf8(every_byte));
}

TEST(JsonText, JsonSafeReachesEveryStringAndKey) {
  const nlohmann::json value = {{"name", "bad\xFFname"},
                                {"bad\xFEkey", 1},
                                {"list", {"ok", "\xC3", 7}},
                                {"nested", {{"text", "caf\xC3\xA9"}}}};
  EXPECT_THROW((void)value.dump(), nlohmann::json::type_error) << "what json_safe prevents";
  const nlohmann::json safe = json_safe(value);
  ASSERT_NO_THROW((void)safe.dump());
  EXPECT_EQ(safe["name"], "bad\\xFFname");
  EXPECT_EQ(safe["bad\\xFEkey"], 1);
  EXPECT_EQ(safe["list"], nlohmann::json({"ok", "\\xC3", 7}));
  EXPECT_EQ(safe["nested"]["text"], "caf\xC3\xA9") << "valid UTF-8 unchanged";
}

}  // namespace
}  // namespace vmodem::sim
