// Registry and dispatch: forms, `;` chains, async answers, the gate.

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

class Dispatcher : public EngineFixture {
 protected:
  // Records every call it gets, then answers OK.
  Handler recording() {
    return [this](Call& call) {
      seen_.push_back(call.command);
      call.responder.ok();
    };
  }

  // Keeps the responder to answer later.
  Handler deferred() {
    return [this](Call& call) { later_ = call.responder; };
  }

  std::vector<Command> seen_;
  Responder later_;
};

TEST_F(Dispatcher, EachFormReachesItsHandler) {
  add("+X",
      {.execute = recording(), .read = recording(), .write = recording(), .test = recording()});
  EXPECT_EQ(send_quiet_echo("AT+X;+X?;+X=?;+X=1,\"a\"\r"), "\r\nOK\r\n");
  ASSERT_EQ(seen_.size(), 4U);
  EXPECT_EQ(seen_[0].form, CommandForm::kExecute);
  EXPECT_EQ(seen_[1].form, CommandForm::kRead);
  EXPECT_EQ(seen_[2].form, CommandForm::kTest);
  EXPECT_EQ(seen_[3].form, CommandForm::kWrite);
  EXPECT_EQ(seen_[3].args, (std::vector{Argument::integer(1), Argument::string("a", true)}));
}

TEST_F(Dispatcher, UnsupportedFormIsAnError) {
  add("+CGMI", {.execute = answer_info("Quectel")});
  EXPECT_EQ(send_quiet_echo("AT+CGMI?\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CGMI=?\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CGMI\r"), "\r\nQuectel\r\n\r\nOK\r\n");
}

TEST_F(Dispatcher, ChainPrintsEachBlockAndOneOk) {
  add("+COPS", {.read = answer_info("+COPS: 0,0,\"vmodem\",8"), .write = recording()});
  EXPECT_EQ(send_quiet_echo("AT+COPS=3,0;+COPS?\r"), "\r\n+COPS: 0,0,\"vmodem\",8\r\n\r\nOK\r\n");
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].args, (std::vector{Argument::integer(3), Argument::integer(0)}));
}

TEST_F(Dispatcher, MultiLineInformationHasOneHeader) {
  add("I", {.execute = [](Call& call) {
        call.responder.info("Quectel");
        call.responder.info("BG95-M3");
        call.responder.info("Revision: BG95M3LAR02A03");
        call.responder.ok();
      }});
  add("+CGMI", {.execute = answer_info("Quectel")});
  EXPECT_EQ(send_quiet_echo("ATI\r"),
            "\r\nQuectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A03\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CGMI;+CGMI\r"), "\r\nQuectel\r\n\r\nQuectel\r\n\r\nOK\r\n");
}

TEST_F(Dispatcher, ChainStopsAtTheFirstError) {
  add("+A", {.execute = recording()});
  add("+B", {.execute = recording()});
  add("+FAIL", {.execute = [](Call& call) { call.responder.cme_error(3); }});
  EXPECT_EQ(send_quiet_echo("AT+CMEE=1;+A;+FAIL;+B\r"), "\r\n+CME ERROR: 3\r\n");
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].name, "+A");
  // An unknown command midway stops the line the same way.
  EXPECT_EQ(send("AT+A;+NOPE;+B\r"), "\r\nERROR\r\n");
  EXPECT_EQ(seen_.size(), 2U);
}

TEST_F(Dispatcher, SyntaxErrorAnywhereRunsNothing) {
  add("+A", {.execute = recording()});
  EXPECT_EQ(send_quiet_echo("AT+A;+A=\"open\r"), "\r\nERROR\r\n");
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Dispatcher, SettingsChangedMidChainApplyToTheFinalResult) {
  EXPECT_EQ(send("ATE0V1\r"), "ATE0V1\r\r\nOK\r\n");
  EXPECT_FALSE(engine().settings().echo);
  EXPECT_EQ(send("ATV0E1\r"), "0\r");
}

TEST_F(Dispatcher, AsyncAnswerHoldsTheLineAndItsInput) {
  add("+SLOW", {.execute = deferred()});
  add("+A", {.execute = recording()});
  engine().settings().echo = false;
  const std::string input = "AT+SLOW;+A\rAT\r";
  const std::size_t used = engine().feed(input);
  EXPECT_EQ(used, std::string("AT+SLOW;+A\r").size()) << "input must wait while a command runs";
  EXPECT_EQ(engine().mode(), EngineMode::kExecuting);
  EXPECT_FALSE(engine().wants_input());
  EXPECT_EQ(engine().take_output(), "");
  EXPECT_TRUE(seen_.empty());

  ASSERT_TRUE(later_.info("+SLOW: done"));
  ASSERT_TRUE(later_.ok());
  EXPECT_FALSE(later_.active());
  EXPECT_FALSE(later_.ok()) << "a second answer must be refused";
  ASSERT_EQ(seen_.size(), 1U) << "the rest of the chain runs after the async answer";
  EXPECT_EQ(engine().take_output(), "\r\n+SLOW: done\r\n\r\nOK\r\n");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(send(input.substr(used)), "\r\nOK\r\n");
}

TEST_F(Dispatcher, WakeFiresWhenAnAsyncAnswerArrives) {
  add("+SLOW", {.execute = deferred()});
  int wakes = 0;
  engine().set_wake([&wakes] { ++wakes; });
  send_quiet_echo("AT+SLOW\r");
  const int before = wakes;
  later_.ok();
  EXPECT_GT(wakes, before);
  EXPECT_EQ(engine().take_output(), "\r\nOK\r\n");
}

TEST_F(Dispatcher, ForgottenResponderAnswersError) {
  add("+LAZY", {.execute = [](Call&) {}});
  add("+B", {.execute = recording()});
  EXPECT_EQ(send_quiet_echo("AT+LAZY;+B\r"), "\r\nERROR\r\n");
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Dispatcher, DroppingTheLastAsyncCopyAnswersError) {
  add("+SLOW", {.execute = deferred()});
  send_quiet_echo("AT+SLOW\r");
  later_ = Responder{};
  EXPECT_EQ(engine().take_output(), "\r\nERROR\r\n");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
}

// A module that lost power inside a command says nothing more about it: the
// abandoned command is never answered (not even ERROR when its last copy
// goes), input waits, and the reset that comes with the power-off frees
// the port.
TEST_F(Dispatcher, AnAbandonedCommandIsNeverAnswered) {
  add("+CUT", {.execute = [](Call& call) { call.responder.abandon(); }});
  add("+SLOW", {.execute = deferred()});
  EXPECT_EQ(send_quiet_echo("AT+CUT\r"), "");
  EXPECT_EQ(engine().mode(), EngineMode::kExecuting);
  EXPECT_EQ(engine().feed("AT\r"), 0U) << "input waits, as in any running command";
  send("");
  EXPECT_EQ(engine().take_output(), "");
  engine().reset();
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
  // A copy kept elsewhere goes stale too.
  send_quiet_echo("AT+SLOW\r");
  Responder copy = later_;
  later_.abandon();
  EXPECT_FALSE(copy.active());
  EXPECT_FALSE(copy.ok());
  copy = Responder{};
  EXPECT_EQ(engine().take_output(), "") << "dropping the last copy says nothing";
  EXPECT_EQ(engine().mode(), EngineMode::kExecuting);
}

TEST_F(Dispatcher, ResetMakesRespondersStale) {
  add("+SLOW", {.execute = deferred()});
  send_quiet_echo("AT+SLOW\r");
  engine().reset();
  EXPECT_FALSE(later_.active());
  EXPECT_FALSE(later_.ok());
  EXPECT_EQ(engine().take_output(), "");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_TRUE(engine().settings().echo) << "reset restores defaults";
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

TEST_F(Dispatcher, ResetFromInsideAHandlerStopsTheLine) {
  add("+RESET", {.execute = [this](Call& call) {
        call.responder.ok();
        engine().reset();
      }});
  add("+B", {.execute = recording()});
  EXPECT_EQ(send_quiet_echo("AT+RESET;+B\r"), "");
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

TEST_F(Dispatcher, RespondersOutliveTheEngineSafely) {
  add("+SLOW", {.execute = deferred()});
  send_quiet_echo("AT+SLOW\r");
  engine_.reset();
  EXPECT_FALSE(later_.active());
  EXPECT_FALSE(later_.ok());
}

TEST_F(Dispatcher, GateRefusesBeforeTheHandlerRuns) {
  constexpr std::uint32_t kNeedsReady = 1;
  bool ready = false;
  registry_.set_gate([&ready](const Command&, std::uint32_t tag) -> std::optional<Failure> {
    if (tag == kNeedsReady && !ready) return Failure::error();
    return std::nullopt;
  });
  add("+READY", {.execute = recording(), .gate_tag = kNeedsReady});
  add("+ANY", {.execute = recording()});
  EXPECT_EQ(send_quiet_echo("AT+ANY;+READY;+ANY\r"), "\r\nERROR\r\n");
  EXPECT_EQ(seen_.size(), 1U);
  ready = true;
  EXPECT_EQ(send("AT+READY\r"), "\r\nOK\r\n");
  EXPECT_EQ(seen_.size(), 2U);
}

TEST_F(Dispatcher, GateMayAnswerWithACmeError) {
  registry_.set_gate([](const Command& command, std::uint32_t) -> std::optional<Failure> {
    if (command.name == "+CPIN") return Failure::cme(14);
    return std::nullopt;
  });
  add("+CPIN", {.read = recording()});
  EXPECT_EQ(send_quiet_echo("AT+CMEE=2;+CPIN?\r"), "\r\n+CME ERROR: SIM busy\r\n");
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Dispatcher, RegistryValidatesNames) {
  EXPECT_TRUE(registry_.add("+qfupl", {}).has_value());
  EXPECT_NE(registry_.find("+QFUPL"), nullptr);
  EXPECT_TRUE(registry_.add("&f", {}).has_value());
  EXPECT_TRUE(registry_.add("S7", {}).has_value());
  for (const char* bad : {"", "+", "+1X", "EE", "&", "S", "S3x", "+A B", "D1"}) {
    const auto added = registry_.add(bad, {});
    ASSERT_FALSE(added.has_value()) << bad;
    EXPECT_EQ(added.error().code, ErrorCode::kInvalidArgument);
  }
  const auto names = registry_.names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "+CMEE"), names.end());
}

TEST_F(Dispatcher, ManySynchronousCommandsDoNotRecurse) {
  add("+A", {.execute = recording()});
  std::string line = "AT";
  for (int i = 0; i < 150; ++i)
    line += "+A;";
  engine(EngineConfig{.max_line_length = 4096});
  EXPECT_EQ(send_quiet_echo(line + "\r"), "\r\nOK\r\n");
  EXPECT_EQ(seen_.size(), 150U);
}

// A handler's exception is a bug, but it must not end the daemon: the
// command is answered ERROR, reported with its name, and the port goes on.
class ThrowingHandler : public Dispatcher {
 protected:
  void SetUp() override {
#ifdef VMODEM_FUZZING
    GTEST_SKIP() << "the fuzzing build lets handler exceptions through";
#endif
  }
  EngineConfig reporting() {
    EngineConfig config;
    config.on_handler_exception = [this](std::string_view command, std::string_view what) {
      reported_.emplace_back(command, what);
    };
    return config;
  }
  std::vector<std::pair<std::string, std::string>> reported_;
};

TEST_F(ThrowingHandler, IsAnsweredErrorAndReported) {
  add("+BOOM", {.write = [](Call&) { throw std::runtime_error("invalid UTF-8 byte"); }});
  add("+A", {.execute = recording()});
  engine(reporting());
  EXPECT_EQ(send_quiet_echo("AT+BOOM=1\r"), "\r\nERROR\r\n");
  ASSERT_EQ(reported_.size(), 1U);
  EXPECT_EQ(reported_[0].first, "+BOOM");
  EXPECT_EQ(reported_[0].second, "invalid UTF-8 byte");
  // Like any failing command: the rest of its line is skipped.
  EXPECT_EQ(send("AT+A;+BOOM=1;+A\r"), "\r\nERROR\r\n");
  EXPECT_EQ(seen_.size(), 1U);
  EXPECT_EQ(send("AT+A\r"), "\r\nOK\r\n");
}

TEST_F(ThrowingHandler, ThatKeptItsResponderIsStillAnswered) {
  Responder kept;
  add("+BOOM", {.execute = [&kept](Call& call) {
        call.responder.info("+BOOM: 1");
        kept = std::move(call.responder);
        throw 42;  // not even a std::exception
      }});
  engine(reporting());
  EXPECT_EQ(send_quiet_echo("AT+BOOM\r"), "\r\n+BOOM: 1\r\n\r\nERROR\r\n");
  EXPECT_FALSE(kept.active()) << "the command is over; a late answer is inert";
  EXPECT_FALSE(kept.ok());
  EXPECT_EQ(engine().take_output(), "");
  ASSERT_EQ(reported_.size(), 1U);
  EXPECT_EQ(reported_[0].first, "+BOOM");
}

TEST_F(ThrowingHandler, WithoutAReporterStillAnswersError) {
  add("+BOOM", {.read = [](Call&) { throw std::logic_error("bug"); }});
  EXPECT_EQ(send_quiet_echo("AT+BOOM?\r"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
