#include <gtest/gtest.h>

#include <vmodem/at/parser.hpp>

namespace vmodem::at {
namespace {

std::vector<Command> parse_ok(std::string_view body) {
  auto parsed = parse_command_line(body);
  EXPECT_TRUE(parsed.has_value()) << body << ": " << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : std::vector<Command>{};
}

void expect_syntax_error(std::string_view body) {
  auto parsed = parse_command_line(body);
  ASSERT_FALSE(parsed.has_value()) << "accepted: " << body;
  EXPECT_EQ(parsed.error().code, ErrorCode::kSyntax);
}

TEST(Parser, EmptyBodyHasNoCommands) {
  EXPECT_TRUE(parse_ok("").empty());
}

TEST(Parser, ExtendedForms) {
  const auto commands = parse_ok("+CMEE;+CMEE?;+CMEE=?;+CMEE=2");
  ASSERT_EQ(commands.size(), 4U);
  EXPECT_EQ(commands[0].form, CommandForm::kExecute);
  EXPECT_EQ(commands[1].form, CommandForm::kRead);
  EXPECT_EQ(commands[2].form, CommandForm::kTest);
  EXPECT_EQ(commands[3].form, CommandForm::kWrite);
  for (const auto& command : commands)
    EXPECT_EQ(command.name, "+CMEE");
  EXPECT_EQ(commands[3].args, std::vector{Argument::integer(2)});
}

TEST(Parser, NamesAreCaseInsensitive) {
  const auto commands = parse_ok("+cgmi;+QfUpL=\"a\"");
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0].name, "+CGMI");
  EXPECT_EQ(commands[1].name, "+QFUPL");
  EXPECT_EQ(commands[1].arg(0), Argument::string("a", true));
}

TEST(Parser, ChainFromHostStacks) {
  const auto commands = parse_ok("+COPS=3,0;+COPS?");
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0].args, (std::vector{Argument::integer(3), Argument::integer(0)}));
  EXPECT_EQ(commands[1].form, CommandForm::kRead);
}

TEST(Parser, ConcatenatedBasicCommands) {
  const auto commands = parse_ok("E0V1&C1I");
  ASSERT_EQ(commands.size(), 4U);
  EXPECT_EQ(commands[0].name, "E");
  EXPECT_EQ(commands[0].args, std::vector{Argument::integer(0)});
  EXPECT_EQ(commands[1].name, "V");
  EXPECT_EQ(commands[2].name, "&C");
  EXPECT_EQ(commands[2].args, std::vector{Argument::integer(1)});
  EXPECT_EQ(commands[3].name, "I");
  EXPECT_TRUE(commands[3].args.empty());
}

TEST(Parser, BasicThenExtendedWithoutSeparator) {
  const auto commands = parse_ok("E0+CMEE=1;V0");
  ASSERT_EQ(commands.size(), 3U);
  EXPECT_EQ(commands[1].name, "+CMEE");
  EXPECT_EQ(commands[2].name, "V");
}

TEST(Parser, SParameters) {
  const auto commands = parse_ok("S3?S4=10S5=?S7=");
  ASSERT_EQ(commands.size(), 4U);
  EXPECT_EQ(commands[0].name, "S3");
  EXPECT_EQ(commands[0].form, CommandForm::kRead);
  EXPECT_EQ(commands[1].form, CommandForm::kWrite);
  EXPECT_EQ(commands[1].args, std::vector{Argument::integer(10)});
  EXPECT_EQ(commands[2].form, CommandForm::kTest);
  EXPECT_TRUE(commands[3].arg(0).is_omitted());
  expect_syntax_error("S3");
  expect_syntax_error("S");
}

TEST(Parser, DialStringRunsToSemicolon) {
  const auto commands = parse_ok("D*99 #;+CMEE?");
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0].name, "D");
  EXPECT_EQ(commands[0].arg(0), Argument::string("*99#", false));
  EXPECT_EQ(commands[1].name, "+CMEE");
}

TEST(Parser, QuotedStringsWithHexEscapes) {
  const auto commands = parse_ok(R"(+X="a\22b\5Cc,d;e","")");
  ASSERT_EQ(commands.size(), 1U);
  EXPECT_EQ(commands[0].arg(0), Argument::string("a\"b\\c,d;e", true));
  EXPECT_EQ(commands[0].arg(1), Argument::string("", true));
  EXPECT_EQ(parse_ok(R"(+X="\4a\4B")")[0].arg(0), Argument::string("JK", true));
}

TEST(Parser, BadStrings) {
  expect_syntax_error(R"(+X="abc)");
  expect_syntax_error(R"(+X="a\2")");
  expect_syntax_error(R"(+X="a\zz")");
  expect_syntax_error(R"(+X="a"b)");
  expect_syntax_error(R"(+X=a"b")");
}

TEST(Parser, OmittedAndEmptyParameters) {
  const auto commands = parse_ok("+X=,1,,\"s\",;+Y=");
  ASSERT_EQ(commands.size(), 2U);
  const auto& x = commands[0].args;
  ASSERT_EQ(x.size(), 5U);
  EXPECT_TRUE(x[0].is_omitted());
  EXPECT_EQ(x[1], Argument::integer(1));
  EXPECT_TRUE(x[2].is_omitted());
  EXPECT_EQ(x[3], Argument::string("s", true));
  EXPECT_TRUE(x[4].is_omitted());
  ASSERT_EQ(commands[1].args.size(), 1U);
  EXPECT_TRUE(commands[1].arg(0).is_omitted());
  // Past the end reads as omitted.
  EXPECT_TRUE(commands[1].arg(7).is_omitted());
}

TEST(Parser, IntegersAndBareWords) {
  const auto commands = parse_ok("+X= -12 , +7,007,GSM,0x1F");
  const auto& args = commands.at(0).args;
  ASSERT_EQ(args.size(), 5U);
  EXPECT_EQ(args[0].as_integer(), -12);
  EXPECT_EQ(args[1].as_integer(), 7);
  EXPECT_EQ(args[2].as_integer(), 7);
  EXPECT_EQ(args[3], Argument::string("GSM", false));
  EXPECT_EQ(args[4], Argument::string("0x1F", false));
  EXPECT_EQ(parse_ok("+X=9223372036854775807")[0].arg(0).as_integer(), INT64_MAX);
  expect_syntax_error("+X=9223372036854775808");
  expect_syntax_error("E1234567890");
}

TEST(Parser, SpacesBetweenElementsAreIgnored) {
  const auto commands = parse_ok(" +CMEE = 2 ; +CMEE ? ");
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0].arg(0), Argument::integer(2));
  EXPECT_EQ(commands[1].form, CommandForm::kRead);
  EXPECT_EQ(parse_ok("+X=\" a b \"")[0].arg(0), Argument::string(" a b ", true));
}

TEST(Parser, RejectsGarbage) {
  expect_syntax_error(std::string_view("\0", 1));
  expect_syntax_error("E\x01");
  expect_syntax_error("\xff\xfe");
  expect_syntax_error("+");
  expect_syntax_error("+1ABC");
  expect_syntax_error("+CMEE?x");
  expect_syntax_error("+CMEE=1 2;");
  expect_syntax_error("&");
  expect_syntax_error("&1");
  expect_syntax_error("#");
  expect_syntax_error("+X=\"\x7f\"");
}

TEST(Parser, NonAsciiAllowedInsideStringsOnly) {
  EXPECT_EQ(parse_ok("+X=\"\xc3\xa9\"")[0].arg(0), Argument::string("\xc3\xa9", true));
  expect_syntax_error("+X=\xc3\xa9");
}

}  // namespace
}  // namespace vmodem::at
