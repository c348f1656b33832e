// Online data mode (OnlineLink): CONNECT, raw bytes both ways, the `+++`
// escape with its guard times, ATO, NO CARRIER, flow control.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

using std::chrono::milliseconds;

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};  // NOLINT
}

// `AT+DIAL` goes online for a link that records what the host sends and the
// events the engine reports; the test plays the peer through link_.
class OnlineMode : public EngineFixture {
 protected:
  OnlineMode() {
    add("+DIAL", {.execute = [this](Call& call) { dial(call); }});
    add("+A", {.execute = answer_info("+A: ran")});
    engine(EngineConfig{.output_bound = 64});
    engine().settings().echo = false;
  }

  void dial(Call& call) {
    OnlineSpec spec;
    spec.on_data = [this](std::span<const std::uint8_t> bytes) {
      from_host_.append(bytes.begin(), bytes.end());
    };
    spec.on_event = [this](OnlineEvent event) { events_.push_back(event); };
    spec.on_writable = [this] { ++writable_; };
    link_ = call.responder.go_online(std::move(spec));
  }

  // Brings the port online with a guard of silence already behind it.
  void go_online() {
    EXPECT_EQ(send("AT+DIAL\r"), "\r\nCONNECT\r\n");
    ASSERT_TRUE(link_.online());
  }

  std::string escape() {
    advance(milliseconds(1000));
    std::string out = send("+++");
    advance(milliseconds(1000));
    return out + engine().take_output();
  }

  OnlineLink link_;
  std::string from_host_;
  std::vector<OnlineEvent> events_;
  int writable_ = 0;
};

TEST_F(OnlineMode, BytesFlowRawBothWaysAndCommandsAreData) {
  go_online();
  EXPECT_EQ(engine().mode(), EngineMode::kOnline);
  const std::string data("AT+A\r\n\x1a\x1b\0+", 10);
  EXPECT_EQ(send(data), "") << "no echo, no command, no answer";
  EXPECT_EQ(from_host_, data) << "a `+` with no silence before it is data at once";
  EXPECT_EQ(link_.write(bytes_of("GET / HTTP/1.0\r\n")), 16U);
  EXPECT_EQ(engine().take_output(), "GET / HTTP/1.0\r\n");
}

TEST_F(OnlineMode, TheLfOfACrLfCommandLineIsNotData) {
  EXPECT_EQ(send("AT+DIAL\r\n"), "\r\nCONNECT\r\n");
  send("x");
  EXPECT_EQ(from_host_, "x");
}

TEST_F(OnlineMode, GuardedPlusesEscapeToCommandStateAndAtoResumes) {
  go_online();
  send("hello");
  EXPECT_EQ(escape(), "\r\nOK\r\n");
  EXPECT_EQ(from_host_, "hello") << "the escape is not data";
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  ASSERT_EQ(events_, std::vector<OnlineEvent>{OnlineEvent::kSuspended});
  EXPECT_FALSE(link_.online());
  EXPECT_TRUE(link_.linked());
  EXPECT_EQ(link_.write(bytes_of("late")), 0U) << "nothing raw reaches a port in command state";
  EXPECT_EQ(send("AT+A\r"), "\r\n+A: ran\r\n\r\nOK\r\n");

  EXPECT_EQ(send("ATO\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(events_.back(), OnlineEvent::kResumed);
  EXPECT_TRUE(link_.online());
  send("again");
  EXPECT_EQ(from_host_, "helloagain");
}

TEST_F(OnlineMode, PlusesWithoutTheGuardBeforeAreData) {
  go_online();
  send("a");
  advance(milliseconds(999));
  send("+++");
  advance(milliseconds(2000));
  EXPECT_EQ(engine().mode(), EngineMode::kOnline);
  EXPECT_EQ(from_host_, "a+++");
}

TEST_F(OnlineMode, ABytesAfterThePlusesMakesThemData) {
  go_online();
  advance(milliseconds(1000));
  send("+++");
  advance(milliseconds(500));
  send("x");
  advance(milliseconds(2000));
  EXPECT_EQ(engine().mode(), EngineMode::kOnline);
  EXPECT_EQ(from_host_, "+++x");
}

TEST_F(OnlineMode, PlusesTooSlowForAnEscapeAreDeliveredWhenTheGuardRunsOut) {
  go_online();
  advance(milliseconds(1000));
  send("+");
  advance(milliseconds(600));
  send("+");
  EXPECT_EQ(from_host_, "");
  ASSERT_TRUE(engine().next_deadline().has_value());
  advance(milliseconds(400));
  EXPECT_EQ(from_host_, "++") << "the escape must come within one guard";
  EXPECT_EQ(engine().mode(), EngineMode::kOnline);
}

TEST_F(OnlineMode, FourPlusesAreData) {
  go_online();
  advance(milliseconds(1000));
  send("++++");
  advance(milliseconds(2000));
  EXPECT_EQ(engine().mode(), EngineMode::kOnline);
  EXPECT_EQ(from_host_, "++++");
}

TEST_F(OnlineMode, HangingUpOnlineSaysNoCarrierAndSendsTheUrcsThatWaited) {
  go_online();
  engine().queue_urc("+QIURC: \"recv\",1");
  EXPECT_EQ(engine().take_output(), "") << "no URC inside online data";
  link_.hang_up();
  EXPECT_EQ(engine().take_output(), "\r\nNO CARRIER\r\n\r\n+QIURC: \"recv\",1\r\n");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_TRUE(events_.empty()) << "the link hung up itself; no event";
  EXPECT_EQ(send("ATO\r"), "\r\nNO CARRIER\r\n");
}

TEST_F(OnlineMode, HangingUpASuspendedLinkIsSilentAndAtoThenFails) {
  go_online();
  escape();
  link_.hang_up();
  EXPECT_EQ(engine().take_output(), "");
  EXPECT_EQ(send("ATO\r"), "\r\nNO CARRIER\r\n");
}

TEST_F(OnlineMode, AtoWithNoLinkSaysNoCarrierAndBadFormsError) {
  EXPECT_EQ(send("ATO\r"), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(send("ATO0\r"), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(send("ATO1\r"), "\r\nERROR\r\n");
}

TEST_F(OnlineMode, ConnectEndsTheCommandLine) {
  EXPECT_EQ(send("AT+DIAL;+A\r"), "\r\nCONNECT\r\n");
  send("x");
  EXPECT_EQ(from_host_, "x");
}

TEST_F(OnlineMode, ANewLinkDetachesTheSuspendedOne) {
  go_online();
  escape();
  OnlineLink first = link_;
  events_.clear();
  EXPECT_EQ(send("AT+DIAL\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(events_, std::vector<OnlineEvent>{OnlineEvent::kDetached});
  EXPECT_FALSE(first.linked());
  first.hang_up();
  EXPECT_EQ(engine().take_output(), "") << "a stale link cannot hang up the new one";
  EXPECT_TRUE(link_.online());
}

TEST_F(OnlineMode, AResetDetachesTheLink) {
  go_online();
  engine().reset();
  EXPECT_EQ(events_, std::vector<OnlineEvent>{OnlineEvent::kDetached});
  EXPECT_FALSE(link_.linked());
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
}

// ... but says nothing: the host that would read the OK is gone.
TEST_F(OnlineMode, ADtrDropSuspendsLikeAnEscape) {
  go_online();
  engine().host_gone();
  EXPECT_EQ(engine().take_output(), "");
  EXPECT_EQ(events_, std::vector<OnlineEvent>{OnlineEvent::kSuspended});
}

TEST_F(OnlineMode, AFullOutputTellsTheLinkToWaitAndWhenThereIsRoom) {
  go_online();
  const std::string block(40, 'd');
  EXPECT_EQ(link_.write(bytes_of(block)), 40U);
  EXPECT_TRUE(link_.has_room());
  EXPECT_EQ(link_.write(bytes_of(block)), 40U) << "a write is never refused for room";
  EXPECT_FALSE(link_.has_room());
  EXPECT_FALSE(engine().wants_input()) << "the host's side waits too";
  EXPECT_EQ(writable_, 0);
  EXPECT_EQ(engine().take_output(), block + block);
  EXPECT_EQ(writable_, 1);
  EXPECT_TRUE(link_.has_room());
}

TEST_F(OnlineMode, AHeldLinkTakesNoInputUntilReleased) {
  go_online();
  link_.hold_input(true);
  EXPECT_FALSE(engine().wants_input());
  EXPECT_EQ(engine().feed("abc"), 0U);
  link_.hold_input(false);
  EXPECT_EQ(engine().feed("abc"), 3U);
  EXPECT_EQ(from_host_, "abc");
}

TEST_F(OnlineMode, NumericModeAndQuietFrameTheResultsAsUsual) {
  engine().settings().verbose = false;
  EXPECT_EQ(send("AT+DIAL\r"), "1\r");
  link_.hang_up();
  EXPECT_EQ(engine().take_output(), "3\r");
}

}  // namespace
}  // namespace vmodem::at::testing
