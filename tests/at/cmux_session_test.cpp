// The multiplexer session as a host sees it: DLC 0 control, AT on DLCs,
// URC routing, close-down; and AT+CMUX handing an engine's port over.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/at/cmux.hpp>
#include <vmodem/at/engine.hpp>

#include "cmux_helpers.hpp"

namespace vmodem::at::testing {
namespace {

using cmux::Frame;
using cmux::FrameType;
namespace msg = cmux::msg;

class CmuxSessionTest : public ::testing::Test {
 protected:
  CmuxSessionTest() {
    install_v250_commands(registry_);
    install_cmux_command(registry_);
    (void)registry_.add("+CSQ", {.execute = [](Call& call) {
                          call.responder.info("+CSQ: 20,99");
                          call.responder.ok();
                        }});
    (void)registry_.add("+LONG", {.execute = [](Call& call) {
                          call.responder.info(std::string(100, 'L'));
                          call.responder.ok();
                        }});
  }

  CmuxSession& session(CmuxParams params = {}) {
    if (!session_) {
      EngineConfig config;
      config.now = [] { return Clock::time_point{}; };
      session_ = std::make_unique<CmuxSession>(registry_, params, std::move(config));
      session_->set_wake([this] { ++wakes_; });
    }
    return *session_;
  }

  // Feeds `bytes` (all must be taken) and returns the frames the module sent.
  std::vector<Frame> send(const std::string& bytes) {
    const std::size_t used = session().feed(span_of(bytes));
    EXPECT_EQ(used, bytes.size());
    return take();
  }

  std::vector<Frame> take() {
    session().pump();
    const auto out = session().pending_output();
    std::string text(out.begin(), out.end());
    session().consume_output(out.size());
    return reader_.read(text);
  }

  // DLC 0 and the given DLCs open; their answers taken.
  void open(std::initializer_list<std::uint8_t> dlcis) {
    send(sabm(0));
    for (const auto dlci : dlcis)
      send(sabm(dlci));
  }

  Registry registry_;
  std::unique_ptr<CmuxSession> session_;
  FrameReader reader_;
  int wakes_ = 0;
};

// The control messages the module sent on DLC 0 (type octet, value).
std::vector<std::pair<std::uint8_t, std::string>> messages(const std::vector<Frame>& frames) {
  std::vector<std::pair<std::uint8_t, std::string>> out;
  for (const auto& frame : frames) {
    if (frame.dlci != 0 || frame.type != FrameType::kUih || frame.info.size() < 2) continue;
    const std::size_t length = frame.info[1] >> 1U;
    out.emplace_back(frame.info[0],
                     std::string(frame.info.begin() + 2,
                                 frame.info.begin() + 2 + static_cast<std::ptrdiff_t>(length)));
  }
  return out;
}

TEST_F(CmuxSessionTest, SabmOnTheControlChannelIsAnsweredUaWithTheFinalBit) {
  const auto frames = send(sabm(0));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kUa);
  EXPECT_EQ(frames[0].dlci, 0);
  EXPECT_TRUE(frames[0].pf);
  EXPECT_TRUE(frames[0].cr);  // a response from the responding station
}

TEST_F(CmuxSessionTest, OpeningADlcAnswersUaThenTheModulesModemStatus) {
  send(sabm(0));
  const auto frames = send(sabm(1));
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].type, FrameType::kUa);
  EXPECT_EQ(frames[0].dlci, 1);
  // MSC command (C/R set) for DLC 1: RTC, RTR, DV, no FC.
  const auto sent = messages(frames);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].first, msg::kMsc | cmux::kCr);
  EXPECT_EQ(sent[0].second, std::string("\x07\x8D", 2));
  EXPECT_NE(session().channel(1), nullptr);
}

TEST_F(CmuxSessionTest, DlcsBeyondFourOrBeforeTheControlChannelGetDm) {
  auto frames = send(sabm(1));  // DLC 0 not open yet
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kDm);
  send(sabm(0));
  frames = send(sabm(5));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kDm);
  EXPECT_EQ(frames[0].dlci, 5);
  frames = send(disc(3));  // never opened
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kDm);
}

TEST_F(CmuxSessionTest, TwoDlcsRunAtWithTheirOwnEchoSettings) {
  open({1, 2});
  EXPECT_EQ(payload(send(uih(1, "ATE0\r")), 1), "ATE0\r\r\nOK\r\n");
  EXPECT_EQ(payload(send(uih(1, "AT+CSQ\r")), 1), "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
  EXPECT_EQ(payload(send(uih(2, "AT+CSQ\r")), 2), "AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
  // Both at once, in one read.
  const auto frames = send(uih(1, "AT\r") + uih(2, "AT\r"));
  EXPECT_EQ(payload(frames, 1), "\r\nOK\r\n");
  EXPECT_EQ(payload(frames, 2), "AT\r\r\nOK\r\n");
}

TEST_F(CmuxSessionTest, OutputIsSplitIntoFramesOfAtMostN1) {
  CmuxParams params;
  params.n1 = 16;
  session(params);
  open({1});
  send(uih(1, "ATE0\r"));
  const auto frames = send(uih(1, "AT+LONG\r"));
  std::size_t data_frames = 0;
  for (const auto& frame : frames) {
    EXPECT_LE(frame.info.size(), 16U);
    if (frame.dlci == 1) ++data_frames;
  }
  EXPECT_EQ(payload(frames, 1), "\r\n" + std::string(100, 'L') + "\r\n\r\nOK\r\n");
  EXPECT_EQ(data_frames, (108U + 15U) / 16U);
}

TEST_F(CmuxSessionTest, ABadFcsIsDroppedAndCountedNotExecuted) {
  open({1});
  std::string bad = sabm(2);
  bad[4] = static_cast<char>(bad[4] ^ 0x40);
  EXPECT_TRUE(send(bad).empty());
  EXPECT_EQ(session().channel(2), nullptr);
  EXPECT_EQ(session().stats().decoder.fcs_errors, 1U);
}

TEST_F(CmuxSessionTest, MscIsAnsweredAndItsFlowControlBitHoldsThatDlcsOutput) {
  open({1, 2});
  // FC set for DLC 1: the host cannot take frames on it.
  auto frames = send(control(msg::kMsc, std::string("\x07\x8F", 2)));
  auto answers = messages(frames);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].first, msg::kMsc);  // the response: C/R clear
  EXPECT_EQ(answers[0].second, std::string("\x07\x8F", 2));

  frames = send(uih(1, "AT\r") + uih(2, "AT\r"));
  EXPECT_EQ(payload(frames, 1), "");
  EXPECT_EQ(payload(frames, 2), "AT\r\r\nOK\r\n");
  frames = send(control(msg::kMsc, std::string("\x07\x8D", 2)));
  EXPECT_EQ(payload(frames, 1), "AT\r\r\nOK\r\n");
}

TEST_F(CmuxSessionTest, FcOffHoldsEveryDlcAndFcOnReleasesThem) {
  open({1});
  auto frames = send(control(msg::kFcOff, ""));
  ASSERT_EQ(messages(frames).size(), 1U);
  EXPECT_EQ(messages(frames)[0].first, msg::kFcOff);
  EXPECT_EQ(payload(send(uih(1, "AT\r")), 1), "");
  frames = send(control(msg::kFcOn, ""));
  EXPECT_EQ(messages(frames)[0].first, msg::kFcOn);
  EXPECT_EQ(payload(frames, 1), "AT\r\r\nOK\r\n");
}

TEST_F(CmuxSessionTest, TestIsEchoedPnAnsweredWithAcceptedValuesUnknownGetsNsc) {
  open({});
  auto answers = messages(send(control(msg::kTest, "PING\r\n")));
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].first, msg::kTest);
  EXPECT_EQ(answers[0].second, "PING\r\n");

  // PN for DLC 1 asking N1 = 1000 (ours is 127), UIH, k = 3.
  const std::string pn("\x01\x00\x07\x0A\xE8\x03\x03\x03", 8);
  answers = messages(send(control(msg::kPn, pn)));
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].first, msg::kPn);
  EXPECT_EQ(answers[0].second, std::string("\x01\x00\x07\x0A\x7F\x00\x03\x00", 8));

  answers = messages(send(control(msg::kSnc, "")));
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].first, msg::kNsc);
  EXPECT_EQ(answers[0].second, std::string(1, static_cast<char>(msg::kSnc | cmux::kCr)));
  EXPECT_EQ(session().stats().unsupported, 1U);
}

TEST_F(CmuxSessionTest, CloseDownAnswersThenStopsTakingInput) {
  open({1});
  const std::string cld = control(msg::kCld, "");
  const std::string after = "AT\r";
  const std::string stream = cld + after;
  const std::size_t used = session().feed(span_of(stream));
  EXPECT_EQ(used, cld.size());  // the AT is for the port's command state
  EXPECT_TRUE(session().closed());
  const auto answers = messages(take());
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].first, msg::kCld);
  EXPECT_EQ(session().channel(1), nullptr);
  EXPECT_FALSE(session().wants_input());
}

TEST_F(CmuxSessionTest, DiscOnTheControlChannelClosesTheMultiplexer) {
  open({1, 2});
  const auto frames = send(disc(0));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kUa);
  EXPECT_TRUE(session().closed());
}

TEST_F(CmuxSessionTest, DiscClosesOneDlcAndItsDataIsDroppedAfterwards) {
  open({1, 2});
  send(uih(1, "ATE0\r"));
  auto frames = send(disc(1));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kUa);
  EXPECT_EQ(frames[0].dlci, 1);
  EXPECT_TRUE(send(uih(1, "AT\r")).empty());
  EXPECT_EQ(session().stats().dropped_closed_dlc, 1U);
  // Reopened, it starts from the default settings (echo on).
  send(sabm(1));
  EXPECT_EQ(payload(send(uih(1, "AT\r")), 1), "AT\r\r\nOK\r\n");
}

TEST_F(CmuxSessionTest, UrcsGoToDlc1ElseTheLowestOpenDlcElseWaitForOne) {
  open({});
  session().queue_urc("+EARLY: 1");  // nothing open yet: waits
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(payload(send(sabm(3)), 3), "\r\n+EARLY: 1\r\n");
  send(sabm(2));
  session().queue_urc("+LOW: 2");
  auto frames = take();
  EXPECT_EQ(payload(frames, 2), "\r\n+LOW: 2\r\n");
  EXPECT_EQ(payload(frames, 3), "");
  send(sabm(1));
  session().queue_urc("+QIURC: \"recv\",0");
  frames = take();
  EXPECT_EQ(payload(frames, 1), "\r\n+QIURC: \"recv\",0\r\n");
  EXPECT_EQ(payload(frames, 2), "");
  EXPECT_GT(wakes_, 0);
}

TEST_F(CmuxSessionTest, HostileBytesNeverBreakTheSession) {
  open({1});
  std::string noise;
  for (int i = 0; i < 4096; ++i)
    noise.push_back(static_cast<char>((i * 131 + 7) % 256));
  session().feed(span_of(noise));
  take();
  // Still in sync afterwards: flags end whatever the noise started (a frame
  // of at most N1 bytes).
  send(std::string(260, '\xF9') + sabm(4));
  EXPECT_EQ(payload(send(uih(4, "AT\r")), 4), "AT\r\r\nOK\r\n");
}

// AT+CMUX on an engine whose transport can multiplex.
class CmuxCommandTest : public CmuxSessionTest {
 protected:
  Engine& engine(bool can_mux = true) {
    if (!engine_) {
      EngineConfig config;
      if (can_mux)
        config.on_mux = [this](const CmuxParams& params) { requested_.push_back(params); };
      engine_ = std::make_unique<Engine>(registry_, std::move(config));
      engine_->settings().echo = false;
    }
    return *engine_;
  }
  std::string at(std::string_view line) {
    EXPECT_EQ(engine().feed(line), line.size());
    return engine().take_output();
  }

  std::unique_ptr<Engine> engine_;
  std::vector<CmuxParams> requested_;
};

TEST_F(CmuxCommandTest, TestAndReadForms) {
  EXPECT_EQ(
      at("AT+CMUX=?\r"),
      "\r\n+CMUX: (0),(0),(1-6),(1-32767),(1-255),(0-100),(2-255),(1-255),(1-7)\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMUX?\r"), "\r\n+CMUX: 0,0,5,127,10,3,30,10,2\r\n\r\nOK\r\n");
}

TEST_F(CmuxCommandTest, OkThenThePortIsHandedOverWithTheParameters) {
  engine();
  const std::string line = "AT+CMUX=0,0,5,64\r";
  const std::string sabm0 = sabm(0);
  const std::string stream = line + sabm0;
  EXPECT_EQ(engine().feed(stream), line.size());  // the SABM is not the engine's
  EXPECT_EQ(engine().take_output(), "\r\nOK\r\n");
  ASSERT_EQ(requested_.size(), 1U);
  EXPECT_EQ(requested_[0].n1, 64);
  EXPECT_EQ(requested_[0].port_speed, 5);
  EXPECT_TRUE(engine().muxed());
  EXPECT_FALSE(engine().wants_input());
  engine().queue_urc("+HELD: 1");
  EXPECT_EQ(engine().take_output(), "");  // no AT framing on a multiplexed port

  engine().end_mux();
  EXPECT_EQ(engine().take_output(), "\r\n+HELD: 1\r\n");
  EXPECT_EQ(at("AT\r"), "\r\nOK\r\n");
  EXPECT_TRUE(engine().settings().echo == false);  // its settings as they were
}

TEST_F(CmuxCommandTest, ALineThatFailsDoesNotMultiplex) {
  EXPECT_EQ(at("AT+CMUX=0;+NOPE\r"), "\r\nERROR\r\n");
  EXPECT_TRUE(requested_.empty());
  EXPECT_FALSE(engine().muxed());
}

TEST_F(CmuxCommandTest, UnsupportedModesAndRangesAreRefused) {
  engine().settings().cmee = CmeeMode::kNumeric;
  EXPECT_EQ(at("AT+CMUX=1\r"), "\r\n+CME ERROR: 4\r\n");
  EXPECT_EQ(at("AT+CMUX=0,1\r"), "\r\n+CME ERROR: 4\r\n");
  EXPECT_EQ(at("AT+CMUX=0,0,7\r"), "\r\n+CME ERROR: 50\r\n");
  EXPECT_EQ(at("AT+CMUX=0,0,5,0\r"), "\r\n+CME ERROR: 50\r\n");
  EXPECT_EQ(at("AT+CMUX=\r"), "\r\nERROR\r\n");
  EXPECT_EQ(at("AT+CMUX=\"0\"\r"), "\r\nERROR\r\n");
  EXPECT_TRUE(requested_.empty());
}

TEST_F(CmuxCommandTest, AnEngineThatCannotMultiplexAnswersError) {
  engine(false);
  EXPECT_EQ(at("AT+CMUX=0\r"), "\r\nERROR\r\n");
  EXPECT_FALSE(engine().muxed());
}

TEST_F(CmuxSessionTest, NoCmuxInsideTheMultiplexerAndReadShowsItsParameters) {
  CmuxParams params;
  params.n1 = 64;
  session(params);
  open({1});
  send(uih(1, "ATE0\r"));
  EXPECT_EQ(payload(send(uih(1, "AT+CMUX?\r")), 1),
            "\r\n+CMUX: 0,0,5,64,10,3,30,10,2\r\n\r\nOK\r\n");
  EXPECT_EQ(payload(send(uih(1, "AT+CMUX=0\r")), 1), "\r\nERROR\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
