// Command-state byte handling: prefix, terminator, echo, editing, A/, limits.

#include <string>

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

using LineDiscipline = EngineFixture;

TEST_F(LineDiscipline, EchoIsOnByDefault) {
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

TEST_F(LineDiscipline, Ate0StopsEchoFromTheNextLine) {
  EXPECT_EQ(send("ATE0\r"), "ATE0\r\r\nOK\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("ATE1\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

// gsm0710muxd writes Ctrl-Z before each command (closing an SMS prompt that
// may be open): the command after it must still run.
TEST_F(LineDiscipline, CtrlZOrEscBeforeACommandDropsTheLineWithoutAnAnswer) {
  EXPECT_EQ(send_quiet_echo("\x1a"
                            "AT\r"),
            "\r\nOK\r\n");
  EXPECT_EQ(send_quiet_echo("AT+NOPE\x1b"
                            "AT\r"),
            "\r\nOK\r\n");
  EXPECT_EQ(send_quiet_echo("\x1a"), "");
}

TEST_F(LineDiscipline, LowerCasePrefixWorks) {
  EXPECT_EQ(send_quiet_echo("at\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, MixedCasePrefixIsNotAtCommand) {
  EXPECT_EQ(send_quiet_echo("At\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send_quiet_echo("aT\r"), "\r\nERROR\r\n");
}

TEST_F(LineDiscipline, CrLfGivesOneAnswerAndNoEmptyCommand) {
  EXPECT_EQ(send_quiet_echo("AT\r\n"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT\r\nAT\r\n"), "\r\nOK\r\n\r\nOK\r\n");
  // The LF is not echoed either.
  engine().settings().echo = true;
  EXPECT_EQ(send("AT\r\n"), "AT\r\r\nOK\r\n");
}

TEST_F(LineDiscipline, LfArrivingInALaterChunkIsStillIgnored) {
  EXPECT_EQ(send_quiet_echo("AT\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("\n"), "");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, EmptyLinesGetNoAnswer) {
  EXPECT_EQ(send_quiet_echo("\r"), "");
  EXPECT_EQ(send("   \r\r\n"), "");
}

TEST_F(LineDiscipline, BytesMayArriveOneAtATime) {
  std::string out;
  for (char c : std::string("AT+CMEE?\r"))
    out += send(std::string(1, c));
  EXPECT_EQ(out, "AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n");
}

TEST_F(LineDiscipline, BackspaceEditsTheLine) {
  // Typing "AT+CMEX", erasing the X and finishing "E?".
  EXPECT_EQ(send_quiet_echo("AT+CMEX\bE?\r"), "\r\n+CMEE: 0\r\n\r\nOK\r\n");
  // Erasing everything, including the prefix, then typing a new command.
  EXPECT_EQ(send("ATQ\b\b\b\bAT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, BackspaceIsEchoed) {
  EXPECT_EQ(send("ATX\b\r"), "ATX\b\r\r\nOK\r\n");
}

TEST_F(LineDiscipline, S5ChangesTheEditingCharacter) {
  engine().settings().echo = false;
  EXPECT_EQ(send("ATS5=127\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CMEX\x7f"
                 "E?\r"),
            "\r\n+CMEE: 0\r\n\r\nOK\r\n");
  // \b is now an ordinary (invalid) character.
  EXPECT_EQ(send("ATX\b\r"), "\r\nERROR\r\n");
}

TEST_F(LineDiscipline, S3ChangesTheTerminatorAndFraming) {
  engine().settings().echo = false;
  EXPECT_EQ(send("ATS3=33\r"), "!\nOK!\n");
  EXPECT_EQ(send("AT!"), "!\nOK!\n");
  EXPECT_EQ(send("ATS3?!"), "!\n033!\n!\nOK!\n");
  EXPECT_EQ(send("ATS3=13!"), "\r\nOK\r\n");
  EXPECT_EQ(send("ATS3?\r"), "\r\n013\r\n\r\nOK\r\n");
}

TEST_F(LineDiscipline, S4ChangesTheFormattingCharacter) {
  engine().settings().echo = false;
  EXPECT_EQ(send("ATS4=42\r"), "\r*OK\r*");
}

TEST_F(LineDiscipline, SRegistersRejectOutOfRangeValues) {
  engine().settings().echo = false;
  EXPECT_EQ(send("ATS3=128\r"), "\r\nERROR\r\n");
  EXPECT_EQ(engine().settings().s3, '\r');
}

TEST_F(LineDiscipline, RepeatLastLineWithoutTerminator) {
  int calls = 0;
  add("+CNT", {.execute = [&calls](Call& call) {
        ++calls;
        call.responder.info("+CNT: " + std::to_string(calls));
        call.responder.ok();
      }});
  EXPECT_EQ(send_quiet_echo("AT+CNT\r"), "\r\n+CNT: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("A/"), "\r\n+CNT: 2\r\n\r\nOK\r\n");
  EXPECT_EQ(send("a/"), "\r\n+CNT: 3\r\n\r\nOK\r\n");
  EXPECT_EQ(calls, 3);
}

TEST_F(LineDiscipline, RepeatIsEchoed) {
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(send("A/"), "A/\r\nOK\r\n");
}

TEST_F(LineDiscipline, RepeatWithNothingToRepeatIsAnError) {
  EXPECT_EQ(send_quiet_echo("A/"), "\r\nERROR\r\n");
}

TEST_F(LineDiscipline, RepeatOnlyAtTheStartOfALine) {
  // "AA/" is not A/ : it is a line "AA/" that lacks the prefix.
  EXPECT_EQ(send_quiet_echo("AT\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AA/\r"), "\r\nERROR\r\n");
}

TEST_F(LineDiscipline, LineAtTheLimitIsAcceptedOneMoreIsNot) {
  engine(EngineConfig{.max_line_length = 16});
  engine().settings().echo = false;
  add("+ABCDEFGHIJKLM", {.execute = answer_ok()});
  // "AT+ABCDEFGHIJKLM" is 16 characters.
  EXPECT_EQ(send("AT+ABCDEFGHIJKLM\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+ABCDEFGHIJKLMN\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, OverlongLineIsRejectedWithoutGrowingMemory) {
  engine().settings().echo = false;
  const std::string huge = "AT+" + std::string(1 << 20, 'X') + "\r";
  EXPECT_EQ(send(huge), "\r\nERROR\r\n");
  EXPECT_EQ(engine().stats().lines_rejected, 1U);
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, BackspaceCannotRescueAnOverlongLine) {
  engine(EngineConfig{.max_line_length = 4});
  engine().settings().echo = false;
  EXPECT_EQ(send("ATEEEE\b\b\r"), "\r\nERROR\r\n");
}

TEST_F(LineDiscipline, NulByteIsAnError) {
  EXPECT_EQ(send_quiet_echo(std::string("AT\0\r", 4)), "\r\nERROR\r\n");
  EXPECT_EQ(send(std::string("\0\0\0\r", 4)), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, BinaryGarbageIsAnErrorAndTheEngineRecovers) {
  engine().settings().echo = false;
  std::string garbage;
  for (int i = 0; i < 256; ++i) {
    if (i != '\r' && i != '\n' && i != '\b') garbage.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(send(garbage + "\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("hello\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(LineDiscipline, LeadingSpacesBeforePrefixAreTolerated) {
  EXPECT_EQ(send_quiet_echo("  AT\r"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
