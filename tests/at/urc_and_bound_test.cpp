// URC queue (never inside a response or data) and the output bound.

#include <string>

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

class UrcAndBound : public EngineFixture {
 protected:
  Handler deferred() {
    return [this](Call& call) { later_ = call.responder; };
  }
  Responder later_;
};

TEST_F(UrcAndBound, UrcGoesOutAtOnceWhenIdle) {
  engine().settings().echo = false;
  engine().queue_urc("+CREG: 1");
  EXPECT_EQ(engine().take_output(), "\r\n+CREG: 1\r\n");
  EXPECT_EQ(engine().stats().urcs_sent, 1U);
}

TEST_F(UrcAndBound, UrcWaitsForTheEndOfAnAsyncResponse) {
  add("+SLOW", {.execute = deferred()});
  send_quiet_echo("AT+SLOW\r");
  ASSERT_TRUE(later_.info("+SLOW: part 1"));
  engine().queue_urc("+QIND: SMS DONE");
  EXPECT_EQ(engine().take_output(), "\r\n+SLOW: part 1\r\n");
  ASSERT_TRUE(later_.info("+SLOW: part 2"));
  ASSERT_TRUE(later_.ok());
  EXPECT_EQ(engine().take_output(), "+SLOW: part 2\r\n\r\nOK\r\n\r\n+QIND: SMS DONE\r\n");
}

TEST_F(UrcAndBound, UrcWaitsForTheEndOfDataMode) {
  Responder upload;
  add("+UP", {.write = [&upload](Call& call) {
        upload = call.responder;
        UploadSpec spec;
        spec.expected_bytes = 4;
        spec.trailing_grace = std::chrono::milliseconds(0);
        spec.on_end = [&upload](UploadEnd, std::size_t count) {
          upload.info("+UP: " + std::to_string(count));
          upload.ok();
        };
        call.responder.start_upload(std::move(spec));
      }});
  EXPECT_EQ(send_quiet_echo("AT+UP=1\r"), "\r\nCONNECT\r\n");
  engine().queue_urc("+CEREG: 1");
  EXPECT_EQ(engine().take_output(), "") << "no URC inside data mode";
  EXPECT_EQ(send("ab"), "");
  engine().queue_urc("+CEREG: 5");
  EXPECT_EQ(send("cd"), "\r\n+UP: 4\r\n\r\nOK\r\n\r\n+CEREG: 1\r\n\r\n+CEREG: 5\r\n");
}

TEST_F(UrcAndBound, UrcFollowsTheResponseFramingMode) {
  send_quiet_echo("ATV0\r");
  engine().queue_urc("RDY");
  EXPECT_EQ(engine().take_output(), "RDY\r\n");
}

TEST_F(UrcAndBound, QuietModeStillSendsUrcs) {
  send_quiet_echo("ATQ1\r");
  engine().queue_urc("+CPIN: READY");
  EXPECT_EQ(engine().take_output(), "\r\n+CPIN: READY\r\n");
}

TEST_F(UrcAndBound, FullUrcQueueDropsTheOldest) {
  add("+SLOW", {.execute = deferred()});
  engine(EngineConfig{.urc_queue_limit = 3});
  send_quiet_echo("AT+SLOW\r");
  for (int i = 1; i <= 5; ++i)
    engine().queue_urc("+U: " + std::to_string(i));
  EXPECT_EQ(engine().stats().urcs_dropped, 2U);
  later_.ok();
  EXPECT_EQ(engine().take_output(), "\r\nOK\r\n\r\n+U: 3\r\n\r\n+U: 4\r\n\r\n+U: 5\r\n");
}

TEST_F(UrcAndBound, AbsentHostStopsInputInsteadOfGrowingOutput) {
  engine(EngineConfig{.output_bound = 64});
  engine().settings().echo = false;
  std::string input;
  for (int i = 0; i < 100; ++i)
    input += "AT\r";
  // Nobody reads: the engine takes input only until 64 bytes wait.
  const std::size_t used = engine().feed(input);
  EXPECT_LT(used, input.size());
  EXPECT_FALSE(engine().wants_input());
  EXPECT_GE(engine().pending_output().size(), 64U);
  EXPECT_LT(engine().pending_output().size(), 64U + 6U) << "at most one response over the bound";
  EXPECT_EQ(engine().feed(std::string_view(input).substr(used)), 0U);
  // The host reads: everything flows again and no response was lost.
  std::string out = engine().take_output();
  std::size_t offset = used;
  while (offset < input.size()) {
    offset += engine().feed(std::string_view(input).substr(offset));
    out += engine().take_output();
  }
  std::string expected;
  for (int i = 0; i < 100; ++i)
    expected += "\r\nOK\r\n";
  EXPECT_EQ(out, expected);
}

TEST_F(UrcAndBound, UrcsWaitWhileTheOutputIsFullAndOverflowIsCounted) {
  engine(EngineConfig{.output_bound = 32, .urc_queue_limit = 2});
  engine().settings().echo = false;
  std::string input;
  for (int i = 0; i < 10; ++i)
    input += "AT\r";
  engine().feed(input);
  const std::size_t backlog = engine().pending_output().size();
  engine().queue_urc("+A");
  engine().queue_urc("+B");
  engine().queue_urc("+C");
  EXPECT_EQ(engine().pending_output().size(), backlog) << "no URC while the output is full";
  EXPECT_EQ(engine().stats().urcs_dropped, 1U);
  EXPECT_EQ(engine().take_output().size(), backlog);
  // The host read the backlog: the URCs that survived follow.
  EXPECT_EQ(engine().take_output(), "\r\n+B\r\n\r\n+C\r\n");
}

TEST_F(UrcAndBound, ResetDropsQueuedUrcsAndOutput) {
  add("+SLOW", {.execute = deferred()});
  send_quiet_echo("AT+SLOW\r");
  engine().queue_urc("+OLD");
  engine().reset();
  EXPECT_EQ(engine().take_output(), "");
  engine().queue_urc("RDY");
  EXPECT_EQ(engine().take_output(), "\r\nRDY\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
