// Data mode: CONNECT, raw bytes with length and timeouts, back to commands.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "engine_fixture.hpp"

namespace vmodem::at::testing {
namespace {

using std::chrono::milliseconds;

// XOR of big-endian 16-bit words, as AT+QFUPL reports it.
std::string checksum(const std::string& data) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    unsigned word = static_cast<unsigned char>(data[i]) << 8U;
    if (i + 1 < data.size()) word |= static_cast<unsigned char>(data[i + 1]);
    sum ^= word;
  }
  char text[8];
  std::snprintf(text, sizeof text, "%x", sum);
  return text;
}

// A miniature AT+QFUPL="<name>",<size>[,<timeout s>[,<ack>]].
class DataMode : public EngineFixture {
 protected:
  DataMode() {
    add("+QFUPL", {.write = [this](Call& call) { start_upload(call); }});
    add("+QFDWL", {.write = [this](Call& call) { start_download(call); }});
    add("+A", {.execute = answer_info("+A: ran")});
    engine(EngineConfig{.output_bound = 256});
    engine().settings().echo = false;
  }

  void start_upload(Call& call) {
    received_.clear();
    const auto size = call.command.arg(1).as_integer();
    const bool ack = call.command.arg(3).as_integer().value_or(0) == 1;
    Responder responder = call.responder;
    UploadSpec spec;
    if (size) spec.expected_bytes = static_cast<std::size_t>(*size);
    spec.inactivity_timeout = milliseconds(call.command.arg(2).as_integer().value_or(5) * 1000);
    spec.trailing_grace = grace_;
    spec.on_data = [this, responder, ack](std::span<const std::uint8_t> bytes) mutable {
      for (auto byte : bytes) {
        received_.push_back(static_cast<char>(byte));
        if (ack && received_.size() % 4 == 0) responder.write_raw("A");
      }
    };
    spec.on_end = [this, responder](UploadEnd end, std::size_t count) mutable {
      end_ = end;
      if (end == UploadEnd::kTimeout) {
        responder.cme_error(421);
        return;
      }
      responder.info("+QFUPL: " + std::to_string(count) + "," + checksum(received_));
      responder.ok();
    };
    call.responder.start_upload(std::move(spec));
  }

  void start_download(Call& call) {
    Responder responder = call.responder;
    auto offset = std::make_shared<std::size_t>(0);
    DownloadSpec spec;
    spec.fill = [this, offset](std::span<std::uint8_t> room) {
      ++fills_;
      max_room_ = std::max(max_room_, room.size());
      const std::size_t count = std::min(room.size(), file_.size() - *offset);
      std::copy_n(file_.begin() + static_cast<std::ptrdiff_t>(*offset), count, room.begin());
      *offset += count;
      return count;
    };
    spec.on_end = [this, responder](DownloadEnd end) mutable {
      download_end_ = end;
      responder.info("+QFDWL: " + std::to_string(file_.size()) + "," + checksum(file_));
      responder.ok();
    };
    call.responder.start_download(std::move(spec));
  }

  milliseconds grace_{20};
  std::string received_;
  std::optional<UploadEnd> end_;
  std::string file_;
  std::size_t fills_ = 0;
  std::size_t max_room_ = 0;
  std::optional<DownloadEnd> download_end_;
};

TEST_F(DataMode, UploadExactLengthThenResult) {
  EXPECT_EQ(send("AT+QFUPL=\"a.txt\",10\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(engine().mode(), EngineMode::kUpload);
  // Raw bytes: terminators, "AT" and NUL are data here, not commands.
  const std::string payload("AT\r\n\0\bA/+x", 10);
  EXPECT_EQ(send(payload), "\r\n+QFUPL: 10," + checksum(payload) + "\r\n\r\nOK\r\n")
      << "answered as soon as the announced bytes are in, no wait";
  EXPECT_EQ(received_, payload);
  EXPECT_EQ(end_, UploadEnd::kComplete);
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

// Bytes after the data, before the next command and with no pause longer
// than the grace, are padding: dropped, in the same chunk or later ones.
TEST_F(DataMode, TrailingPaddingIsDropped) {
  send("AT+QFUPL=\"a.txt\",6\r");
  EXPECT_EQ(send("hello!" + std::string(10, '\0')),
            "\r\n+QFUPL: 6," + checksum("hello!") + "\r\n\r\nOK\r\n");
  advance(milliseconds(10));
  EXPECT_EQ(send(std::string(1018, '\x1a') + "\r\n"), "")
      << "padding in a later chunk is dropped too, CR included";
  advance(milliseconds(15));
  EXPECT_EQ(send("\r"), "") << "each padding chunk restarts the grace";
  EXPECT_EQ(received_, "hello!");
  EXPECT_EQ(engine().stats().bytes_discarded, 1031U);
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(DataMode, PaddingEndsAtTheNextCommandOrAPause) {
  send("AT+QFUPL=\"a.txt\",3\r");
  EXPECT_EQ(send(std::string("abc\0\0AT\r", 8)),
            "\r\n+QFUPL: 3," + checksum("abc") + "\r\n\r\nOK\r\n\r\nOK\r\n")
      << "an eager host's next command right behind its padding runs";
  send("AT+QFUPL=\"b.txt\",3\r");
  send("xyz");
  advance(milliseconds(25));
  EXPECT_EQ(send("?\r"), "\r\nERROR\r\n") << "after a pause, bytes are the parser's again";
}

TEST_F(DataMode, ZeroGraceAnswersAtOnceAndLeavesLaterBytesToTheParser) {
  grace_ = milliseconds(0);
  send("AT+QFUPL=\"a.txt\",3\r");
  EXPECT_EQ(send("abcAT\r"), "\r\n+QFUPL: 3," + checksum("abc") + "\r\n\r\nOK\r\n\r\nOK\r\n");
}

TEST_F(DataMode, UploadInSmallPiecesAcrossFeeds) {
  send("AT+QFUPL=\"a.txt\",5\r");
  for (char c : std::string("12345")) {
    advance(milliseconds(1000));  // well inside the 5 s inactivity timeout
    send(std::string(1, c));
  }
  advance(milliseconds(25));
  EXPECT_EQ(received_, "12345");
  EXPECT_EQ(end_, UploadEnd::kComplete);
}

TEST_F(DataMode, InactivityTimeoutEndsAShortUpload) {
  send("AT+QFUPL=\"a.txt\",100,2\r");
  send("abc");
  advance(milliseconds(1999));
  EXPECT_FALSE(end_.has_value());
  ASSERT_TRUE(engine().next_deadline().has_value());
  EXPECT_EQ(*engine().next_deadline(), now_ + milliseconds(1));
  advance(milliseconds(1));
  EXPECT_EQ(end_, UploadEnd::kTimeout);
  EXPECT_EQ(send("AT+CMEE=1\r"), "\r\nERROR\r\n\r\nOK\r\n");
}

// A host that closes the port mid-upload sends nothing more: the upload ends
// at once as a timeout would end it, and the next bytes are a command.
TEST_F(DataMode, AHostGoneEndsTheUploadAsATimeout) {
  send("AT+QFUPL=\"a.txt\",100\r");
  send("abc");
  engine().host_gone();
  EXPECT_EQ(end_, UploadEnd::kTimeout);
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(send("AT+A\r"), "\r\n+A: ran\r\n\r\nOK\r\n") << "no ERROR for the host gone";
}

TEST_F(DataMode, AHostGoneAfterTheLastByteCompletesTheUpload) {
  send("AT+QFUPL=\"a.txt\",3\r");
  send("abc");
  engine().host_gone();
  EXPECT_EQ(end_, UploadEnd::kComplete);
}

TEST_F(DataMode, TimeoutWithCmeeShowsTheCode) {
  send("AT+CMEE=1\r");
  send("AT+QFUPL=\"a.txt\",100,1\r");
  advance(milliseconds(1000));
  EXPECT_EQ(engine().take_output(), "\r\n+CME ERROR: 421\r\n");
  EXPECT_FALSE(engine().next_deadline().has_value());
}

TEST_F(DataMode, UnknownSizeEndsOnTimeout) {
  send("AT+QFUPL=\"a.txt\"\r");
  send(std::string(300, 'x'));
  advance(milliseconds(5000));
  EXPECT_EQ(received_.size(), 300U);
  EXPECT_EQ(end_, UploadEnd::kTimeout);
}

TEST_F(DataMode, AckModeWritesRawAcksDuringData) {
  send("AT+QFUPL=\"a.txt\",8,5,1\r");
  EXPECT_EQ(send("abcdefgh"), "AA\r\n+QFUPL: 8," + checksum("abcdefgh") + "\r\n\r\nOK\r\n");
}

TEST_F(DataMode, ChainContinuesAfterDataMode) {
  EXPECT_EQ(send("AT+QFUPL=\"a\",2;+A\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("xy"), "\r\n+QFUPL: 2," + checksum("xy") + "\r\n\r\n+A: ran\r\n\r\nOK\r\n");
}

TEST_F(DataMode, NumericModeConnect) {
  send("ATV0\r");
  EXPECT_EQ(send("AT+QFUPL=\"a\",1\r"), "1\r");
}

TEST_F(DataMode, ResetDuringUploadAbortsIt) {
  send("AT+QFUPL=\"a\",100\r");
  send("abc");
  engine().reset();
  EXPECT_EQ(end_, UploadEnd::kAborted);
  EXPECT_EQ(engine().take_output(), "") << "the aborted handler's answer goes nowhere";
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

// A handler whose write fails at the first byte (the disk filled up) and
// answers at once, as a naive handler would.
class EarlyAnswer : public DataMode {
 protected:
  EarlyAnswer() {
    add("+FULL", {.write = [this](Call& call) {
          Responder responder = call.responder;
          UploadSpec spec;
          spec.expected_bytes = static_cast<std::size_t>(call.command.arg(0).as_integer().value());
          spec.inactivity_timeout = milliseconds(2000);
          spec.on_data = [this, responder](std::span<const std::uint8_t> bytes) mutable {
            delivered_ += bytes.size();
            responder.cme_error(420);
          };
          spec.on_end = [this](UploadEnd, std::size_t) { ++ends_; };
          call.responder.start_upload(std::move(spec));
        }});
    add("+QFDEL", {.write = [this](Call& call) {
          ++deletes_;
          call.responder.ok();
        }});
    send("AT+CMEE=1\r");
  }
  std::size_t delivered_ = 0;
  int ends_ = 0;
  int deletes_ = 0;
};

TEST_F(EarlyAnswer, TheAnnouncedBytesAreStillDataAndTheErrorFollowsThem) {
  EXPECT_EQ(send("AT+FULL=40\r"), "\r\nCONNECT\r\n");
  const std::string attack = "x\rAT+QFDEL=\"victim.txt\"\r";
  const std::string payload = attack + std::string(40 - attack.size(), 'y');
  EXPECT_EQ(send(payload.substr(0, 30)), "") << "no answer before the last announced byte";
  EXPECT_EQ(engine().mode(), EngineMode::kUpload);
  EXPECT_EQ(send(payload.substr(30)), "\r\n+CME ERROR: 420\r\n")
      << "the answer once the last announced byte is in";
  EXPECT_EQ(send("\x1a\x1a"), "") << "padding after the last byte is dropped as usual";
  EXPECT_EQ(deletes_, 0) << "file data ran as a command";
  EXPECT_EQ(delivered_, 30U) << "nothing reaches the handler after its answer";
  EXPECT_EQ(ends_, 0) << "an answered upload gets no on_end";
  EXPECT_EQ(engine().stats().bytes_discarded, 10U + 2U);
  EXPECT_EQ(send("AT+QFDEL=\"x\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(deletes_, 1);
}

TEST_F(EarlyAnswer, AHostThatFallsSilentGetsTheErrorAtTheTimeout) {
  send("AT+FULL=100\r");
  EXPECT_EQ(send("abc"), "");
  advance(milliseconds(1999));
  EXPECT_EQ(engine().take_output(), "");
  advance(milliseconds(1));
  EXPECT_EQ(engine().take_output(), "\r\n+CME ERROR: 420\r\n");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(EarlyAnswer, ResetAfterTheAnswerPrintsNothing) {
  send("AT+FULL=100\r");
  send("abc");
  engine().reset();
  engine().settings().echo = false;
  EXPECT_EQ(engine().take_output(), "");
  EXPECT_EQ(ends_, 0);
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(EarlyAnswer, TheChainStopsAtTheFailureAfterTheData) {
  EXPECT_EQ(send("AT+FULL=3;+QFDEL=\"x\"\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("abc"), "\r\n+CME ERROR: 420\r\n");
  EXPECT_EQ(deletes_, 0);
}

// Hosts that end command lines with CR LF: the LF is the line's, not data.
TEST_F(DataMode, CrLfLineThenDataInTheSameRead) {
  EXPECT_EQ(send("AT+QFUPL=\"a.txt\",5\r\nhello"),
            "\r\nCONNECT\r\n\r\n+QFUPL: 5," + checksum("hello") + "\r\n\r\nOK\r\n");
  EXPECT_EQ(received_, "hello");
  EXPECT_EQ(send("AT\r\n"), "\r\nOK\r\n");
}

TEST_F(DataMode, CrLfLineWhoseLfComesInTheNextReadBeforeConnectWentOut) {
  EXPECT_EQ(engine().feed("AT+QFUPL=\"a.txt\",5,5,1\r"), 23U);
  EXPECT_EQ(engine().feed("\n"), 1U) << "CONNECT is still in the output: the LF is the line's";
  EXPECT_EQ(engine().take_output(), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("\nabcd"), "A\r\n+QFUPL: 5," + checksum("\nabcd") + "\r\n\r\nOK\r\n")
      << "after CONNECT went out an LF is data";
  EXPECT_EQ(received_, "\nabcd");
}

TEST_F(DataMode, CrOnlyHostMayStartItsDataWithLf) {
  EXPECT_EQ(send("AT+QFUPL=\"a.txt\",3\r"), "\r\nCONNECT\r\n");
  send("\n\r\n");
  advance(milliseconds(25));
  EXPECT_EQ(received_, "\n\r\n");
}

TEST_F(DataMode, OnlyTheByteRightAfterTheCrCanBeItsLf) {
  const auto first = send("AT+QFUPL=\"a.txt\",3;+QFUPL=\"b.txt\",3\r\nx\ny");
  EXPECT_NE(first.find("+QFUPL: 3," + checksum("x\ny") + "\r\n"), std::string::npos) << first;
  send("\nzz");
  EXPECT_EQ(received_, "\nzz") << "the second upload of the line is past the terminator";
}

TEST_F(DataMode, DownloadStreamsWithinTheBound) {
  for (int i = 0; i < 1000; ++i)
    file_.push_back(static_cast<char>('a' + i % 26));
  EXPECT_EQ(engine().feed("AT+QFDWL=\"a\"\r"), 13U);
  std::string out;
  while (engine().mode() != EngineMode::kCommand) {
    EXPECT_LE(engine().pending_output().size(), 256U + 64U);
    out += engine().take_output();
  }
  out += engine().take_output();
  EXPECT_LE(max_room_, 256U);
  EXPECT_GT(fills_, 3U) << "a download must be pulled in pieces, not all at once";
  EXPECT_EQ(out,
            "\r\nCONNECT\r\n" + file_ + "\r\n+QFDWL: 1000," + checksum(file_) + "\r\n\r\nOK\r\n");
  EXPECT_EQ(download_end_, DownloadEnd::kComplete);
}

TEST_F(DataMode, HostInputDuringDownloadIsDropped) {
  file_ = std::string(1000, 'z');
  engine().feed("AT+QFDWL=\"a\"\r");
  EXPECT_EQ(engine().mode(), EngineMode::kDownload);
  EXPECT_EQ(engine().feed("AT\r"), 3U);
  std::string out;
  while (engine().mode() != EngineMode::kCommand)
    out += engine().take_output();
  out += engine().take_output();
  EXPECT_EQ(out.find("\r\nOK\r\n"), out.size() - 6) << "only the download's own OK";
}

TEST_F(DataMode, ResetDuringDownloadAbortsIt) {
  file_ = std::string(1000, 'z');
  engine().feed("AT+QFDWL=\"a\"\r");
  engine().reset();
  EXPECT_EQ(download_end_, DownloadEnd::kAborted);
  EXPECT_EQ(engine().take_output(), "");
}

// A miniature AT+QISEND=<id>[,<length>]: with a length, a byte-counted upload
// after a `> ` prompt; without, text up to Ctrl-Z (send) or ESC (cancel), at
// most `max_` bytes.
class PromptUpload : public DataMode {
 protected:
  PromptUpload() {
    add("+QISEND", {.write = [this](Call& call) { start_send(call); }});
  }

  void start_send(Call& call) {
    delivered_.clear();
    Responder responder = call.responder;
    UploadSpec spec;
    spec.prompt = "> ";
    spec.inactivity_timeout = milliseconds(2000);
    if (const auto length = call.command.arg(1).as_integer()) {
      spec.expected_bytes = static_cast<std::size_t>(*length);
      spec.trailing_grace = milliseconds(0);
    } else {
      spec.expected_bytes = max_;
      spec.ends_at_ctrl_z = true;
    }
    spec.on_data = [this, responder](std::span<const std::uint8_t> bytes) mutable {
      for (auto byte : bytes)
        delivered_.push_back(static_cast<char>(byte));
      if (fail_on_data_) responder.cme_error(420);
    };
    spec.on_end = [this, responder](UploadEnd end, std::size_t count) mutable {
      send_end_ = end;
      ++send_ends_;
      switch (end) {
        case UploadEnd::kComplete:
          sent_ += delivered_;
          responder.info("+QISEND: " + std::to_string(count));
          responder.ok();
          return;
        case UploadEnd::kCancelled:
          responder.ok();  // nothing sent
          return;
        case UploadEnd::kTimeout:
          responder.error();
          return;
        case UploadEnd::kAborted:
          return;
      }
    };
    call.responder.start_upload(std::move(spec));
  }

  std::size_t max_ = 1460;
  bool fail_on_data_ = false;
  std::string delivered_;  // given to on_data by the current upload
  std::string sent_;       // what the uploads that ended in Ctrl-Z "sent"
  std::optional<UploadEnd> send_end_;
  int send_ends_ = 0;
};

TEST_F(PromptUpload, PromptIsExactlyGreaterThanSpaceAfterTheEcho) {
  engine().settings().echo = true;
  EXPECT_EQ(send("AT+QISEND=0\r"), "AT+QISEND=0\r> ") << "no CR LF around the prompt";
  EXPECT_EQ(engine().mode(), EngineMode::kUpload);
  EXPECT_EQ(send("hi\x1a"), "\r\n+QISEND: 2\r\n\r\nOK\r\n") << "data is not echoed";
  EXPECT_EQ(send("AT+QISEND=0,3\r"), "AT+QISEND=0,3\r> ");
  EXPECT_EQ(send("abc"), "\r\n+QISEND: 3\r\n\r\nOK\r\n");
}

TEST_F(PromptUpload, NumericModeWritesTheSamePrompt) {
  send("ATV0\r");
  EXPECT_EQ(send("AT+QISEND=0\r"), "> ");
  EXPECT_EQ(send("hi\x1a"), "+QISEND: 2\r\n0\r");
  EXPECT_EQ(send("AT+QISEND=0,2\r"), "> ");
  EXPECT_EQ(send("hi"), "+QISEND: 2\r\n0\r");
}

TEST_F(PromptUpload, QuietModeStillWritesThePrompt) {
  send("ATQ1\r");
  EXPECT_EQ(send("AT+QISEND=0\r"), "> ") << "the host cannot send without it";
  EXPECT_EQ(send("hi\x1a"), "\r\n+QISEND: 2\r\n");
}

TEST_F(PromptUpload, CtrlZSendsTheBytesBeforeItAndTheNextCommandRuns) {
  EXPECT_EQ(send("AT+QISEND=0\r"), "> ");
  EXPECT_EQ(send("data\x1a"
                 "AT\r"),
            "\r\n+QISEND: 4\r\n\r\nOK\r\n\r\nOK\r\n")
      << "answered at once (no padding grace); the bytes after Ctrl-Z are a command line";
  EXPECT_EQ(send_end_, UploadEnd::kComplete);
  EXPECT_EQ(delivered_, "data") << "Ctrl-Z is not data";
  EXPECT_EQ(sent_, "data");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_FALSE(engine().next_deadline().has_value());
  EXPECT_EQ(engine().stats().data_bytes_in, 4U);
  EXPECT_EQ(engine().stats().bytes_discarded, 0U);
}

TEST_F(PromptUpload, CtrlZRightAwaySendsNothingAndCompletes) {
  send("AT+QISEND=0\r");
  EXPECT_EQ(send("\x1a"), "\r\n+QISEND: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(send_end_, UploadEnd::kComplete);
  EXPECT_EQ(delivered_, "");
}

TEST_F(PromptUpload, DataArrivingByteByByteEndsAtTheCtrlZ) {
  send("AT+QISEND=0\r");
  const std::string payload = "one\r\ntwo";
  for (char c : payload) {
    advance(milliseconds(1000));  // inside the 2 s inactivity timeout
    EXPECT_EQ(send(std::string(1, c)), "");
  }
  EXPECT_EQ(engine().mode(), EngineMode::kUpload);
  EXPECT_EQ(send("\x1a"), "\r\n+QISEND: 8\r\n\r\nOK\r\n");
  EXPECT_EQ(sent_, payload);
}

TEST_F(PromptUpload, EscCancelsAndNothingAfterItIsData) {
  send("AT+QISEND=0\r");
  EXPECT_EQ(send("abc"), "");
  EXPECT_EQ(send("\x1b"
                 "AT\r"),
            "\r\nOK\r\n\r\nOK\r\n")
      << "the handler's OK for the cancel, then AT's";
  EXPECT_EQ(send_end_, UploadEnd::kCancelled);
  EXPECT_EQ(send_ends_, 1);
  EXPECT_EQ(delivered_, "abc") << "neither ESC nor what follows it is delivered";
  EXPECT_EQ(sent_, "");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(engine().stats().lines, 2U) << "AT+QISEND and AT ran, nothing else";
}

TEST_F(PromptUpload, OnlyTheFirstTerminatorEndsTheUpload) {
  send("AT+QISEND=0\r");
  EXPECT_EQ(engine().feed("ab\x1b\x1a"), 4U);
  EXPECT_EQ(send_end_, UploadEnd::kCancelled);
  EXPECT_EQ(send_ends_, 1);
  EXPECT_EQ(delivered_, "ab");
  EXPECT_EQ(engine().take_output(), "\r\nOK\r\n");
  EXPECT_EQ(engine().mode(), EngineMode::kCommand)
      << "the Ctrl-Z after the ESC is a (meaningless) command-line byte";
}

TEST_F(PromptUpload, BytesPastTheMaximumAreDiscardedAndCounted) {
  max_ = 4;
  send("AT+QISEND=0\r");
  EXPECT_EQ(send("abcdef"), "");
  EXPECT_EQ(engine().mode(), EngineMode::kUpload) << "the maximum does not end the upload";
  EXPECT_EQ(send("gh\r\n"), "");
  EXPECT_EQ(send("\x1a"), "\r\n+QISEND: 4\r\n\r\nOK\r\n");
  EXPECT_EQ(delivered_, "abcd");
  EXPECT_EQ(engine().stats().data_bytes_in, 4U);
  EXPECT_EQ(engine().stats().bytes_discarded, 6U);
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n") << "the discarded CR LF did not reach the parser";
  EXPECT_EQ(engine().stats().lines_rejected, 0U);
}

TEST_F(PromptUpload, CrLfAndAtInsideTheDataAreData) {
  send("AT+QISEND=0\r");
  const std::string payload("x\r\nAT\r\nAT+QISEND=1\r\0\xff\n", 21);
  const auto lines = engine().stats().lines;
  EXPECT_EQ(send(payload), "") << "no command ran inside the data";
  EXPECT_EQ(send("\x1a"), "\r\n+QISEND: 21\r\n\r\nOK\r\n");
  EXPECT_EQ(sent_, payload);
  EXPECT_EQ(engine().stats().lines, lines);
}

TEST_F(PromptUpload, CrLfLineThenDataInTheSameRead) {
  EXPECT_EQ(send("AT+QISEND=0\r\nhello\x1a"), "> \r\n+QISEND: 5\r\n\r\nOK\r\n");
  EXPECT_EQ(sent_, "hello") << "the LF of the line's CR LF is not data";
  EXPECT_EQ(engine().stats().bytes_discarded, 1U);
  EXPECT_EQ(send("AT+QISEND=0,5\r\nhello"), "> \r\n+QISEND: 5\r\n\r\nOK\r\n");
  EXPECT_EQ(delivered_, "hello");
}

TEST_F(PromptUpload, CrLfLineWhoseLfComesBeforeThePromptWentOut) {
  EXPECT_EQ(engine().feed("AT+QISEND=0\r"), 12U);
  EXPECT_EQ(engine().feed("\n"), 1U) << "the prompt is still in the output: the LF is the line's";
  EXPECT_EQ(engine().take_output(), "> ");
  EXPECT_EQ(send("\nab\x1a"), "\r\n+QISEND: 3\r\n\r\nOK\r\n");
  EXPECT_EQ(sent_, "\nab") << "after the prompt went out an LF is data";
}

TEST_F(PromptUpload, FixedLengthTakesExactlyItsBytesAfterThePrompt) {
  EXPECT_EQ(send("AT+QISEND=0,5\r"), "> ");
  EXPECT_EQ(send("ab"), "");
  EXPECT_EQ(send("\x1a\x1b"
                 "eAT\r"),
            "\r\n+QISEND: 5\r\n\r\nOK\r\n\r\nOK\r\n")
      << "Ctrl-Z and ESC are data here; the answer comes at once after the 5th byte";
  EXPECT_EQ(delivered_, std::string("ab\x1a\x1b"
                                    "e"));
  EXPECT_EQ(send_end_, UploadEnd::kComplete);
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
}

TEST_F(PromptUpload, ChainContinuesAfterCtrlZ) {
  EXPECT_EQ(send("AT+QISEND=0;+A\r"), "> ");
  EXPECT_EQ(send("xy\x1a"), "\r\n+QISEND: 2\r\n\r\n+A: ran\r\n\r\nOK\r\n");
}

TEST_F(PromptUpload, InactivityTimeoutEndsATextUpload) {
  send("AT+QISEND=0\r");
  send("abc");
  advance(milliseconds(1999));
  EXPECT_FALSE(send_end_.has_value());
  advance(milliseconds(1));
  EXPECT_EQ(send_end_, UploadEnd::kTimeout);
  EXPECT_EQ(engine().take_output(), "\r\nERROR\r\n");
  EXPECT_EQ(sent_, "");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(PromptUpload, ResetDuringATextUploadAbortsIt) {
  send("AT+QISEND=0\r");
  send("abc");
  engine().reset();
  EXPECT_EQ(send_end_, UploadEnd::kAborted);
  EXPECT_EQ(engine().take_output(), "") << "the aborted handler's answer goes nowhere";
  EXPECT_EQ(engine().mode(), EngineMode::kCommand);
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n") << "power-on settings again: echo on";
}

TEST_F(PromptUpload, AnEarlyAnswerWaitsForTheCtrlZ) {
  fail_on_data_ = true;
  send("AT+CMEE=1\r");
  send("AT+QISEND=0\r");
  const auto lines = engine().stats().lines;
  EXPECT_EQ(send("x\rAT+QISEND=1,1\r"), "") << "no answer before the end of the data";
  EXPECT_EQ(engine().mode(), EngineMode::kUpload);
  EXPECT_EQ(send("y\x1a"), "\r\n+CME ERROR: 420\r\n");
  EXPECT_EQ(engine().stats().lines, lines) << "data ran as a command";
  EXPECT_EQ(delivered_, "x\rAT+QISEND=1,1\r") << "nothing reaches the handler after its answer";
  EXPECT_EQ(engine().stats().bytes_discarded, 1U) << "the `y` after the answer";
  EXPECT_EQ(send_ends_, 0) << "an answered upload gets no on_end";
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::at::testing
