// What the host sees for results: ATV, ATQ, +CMEE.

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

class ResultFormat : public EngineFixture {
 protected:
  ResultFormat() {
    add("+SIM", {.execute = [](Call& call) { call.responder.cme_error(10); }});
    add("+FILE", {.execute = [](Call& call) { call.responder.cme_error(405); }});
    add("+ODD", {.execute = [](Call& call) { call.responder.cme_error(9999); }});
    add("+INFO", {.execute = answer_info("+INFO: 1")});
    add("+SEND", {.execute = [](Call& call) { call.responder.final_text("SEND OK"); }});
    engine().settings().echo = false;
  }
};

TEST_F(ResultFormat, VerboseByDefault) {
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+NOPE\r"), "\r\nERROR\r\n");
}

TEST_F(ResultFormat, NumericCodesUnderV0) {
  EXPECT_EQ(send("ATV0\r"), "0\r");
  EXPECT_EQ(send("AT\r"), "0\r");
  EXPECT_EQ(send("AT+NOPE\r"), "4\r");
  // Information text: no header, trailer kept.
  EXPECT_EQ(send("AT+INFO\r"), "+INFO: 1\r\n0\r");
  EXPECT_EQ(send("ATV1\r"), "\r\nOK\r\n");
}

TEST_F(ResultFormat, QuietSuppressesResultCodesButNotInformation) {
  EXPECT_EQ(send("ATQ1\r"), "");
  EXPECT_EQ(send("AT\r"), "");
  EXPECT_EQ(send("AT+NOPE\r"), "");
  EXPECT_EQ(send("AT+INFO\r"), "\r\n+INFO: 1\r\n");
  EXPECT_EQ(send("ATQ0\r"), "\r\nOK\r\n");
}

TEST_F(ResultFormat, CmeeOffGivesPlainError) {
  EXPECT_EQ(send("AT+SIM\r"), "\r\nERROR\r\n");
}

TEST_F(ResultFormat, CmeeNumeric) {
  EXPECT_EQ(send("AT+CMEE=1\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+SIM\r"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+FILE\r"), "\r\n+CME ERROR: 405\r\n");
}

TEST_F(ResultFormat, CmeeVerbose) {
  EXPECT_EQ(send("AT+CMEE=2\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+SIM\r"), "\r\n+CME ERROR: SIM not inserted\r\n");
  EXPECT_EQ(send("AT+FILE\r"), "\r\n+CME ERROR: file not found\r\n");
  // No text known: the number.
  EXPECT_EQ(send("AT+ODD\r"), "\r\n+CME ERROR: 9999\r\n");
}

TEST_F(ResultFormat, CmeTextCanBeOverridden) {
  registry_.set_cme_text(405, "no such file");
  EXPECT_EQ(send("AT+CMEE=2;+FILE\r"), "\r\n+CME ERROR: no such file\r\n");
}

TEST_F(ResultFormat, UnknownCommandStaysPlainErrorUnderCmee) {
  EXPECT_EQ(send("AT+CMEE=2\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+NOPE\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CMEE=\"x\r"), "\r\nERROR\r\n");
}

TEST_F(ResultFormat, CmeeUnderQuietIsSuppressed) {
  EXPECT_EQ(send("AT+CMEE=1;Q1\r"), "");
  EXPECT_EQ(send("AT+SIM\r"), "");
}

TEST_F(ResultFormat, CmeeReadTestAndBadValues) {
  EXPECT_EQ(send("AT+CMEE=?\r"), "\r\n+CMEE: (0-2)\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CMEE=2\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CMEE?\r"), "\r\n+CMEE: 2\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CMEE=3\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CMEE=\"1\"\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CMEE=\r"), "\r\nOK\r\n");  // omitted = 0
  EXPECT_EQ(engine().settings().cmee, CmeeMode::kOff);
}

TEST_F(ResultFormat, OtherFinalResultCodes) {
  add("+HANG", {.execute = [](Call& call) {
        call.responder.fail(Failure::result(ResultCode::kNoCarrier));
      }});
  EXPECT_EQ(send("AT+HANG\r"), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(send("ATV0;+HANG\r"), "3\r");
}

TEST_F(ResultFormat, ResetDefaultsWithZAndAmpersandF) {
  EXPECT_EQ(send("ATV0Q0+CMEE=2\r"), "0\r");
  EXPECT_EQ(send("AT&F\r"), "\r\nOK\r\n");
  EXPECT_EQ(engine().settings(), PortSettings{});
  EXPECT_EQ(send("ATE0V0\r"), "ATE0V0\r0\r");
  EXPECT_EQ(send("ATZ\r"), "\r\nOK\r\n");
}

TEST_F(ResultFormat, AFinalTextOfTheCommandsOwnReplacesOkAndEndsTheLine) {
  EXPECT_EQ(send("AT+SEND\r"), "\r\nSEND OK\r\n");
  EXPECT_EQ(send("AT+SEND;+INFO\r"), "\r\nSEND OK\r\n") << "the rest of the line is skipped";
  EXPECT_EQ(send("ATV0\r"), "0\r");
  EXPECT_EQ(send("AT+SEND\r"), "SEND OK\r\n") << "no numeric form";
  EXPECT_EQ(send("ATQ1\r"), "");
  EXPECT_EQ(send("AT+SEND\r"), "");
}

}  // namespace
}  // namespace vmodem::at::testing
