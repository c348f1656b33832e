// AT+QFUPL and AT+QFDWL: round trips, checksums, ack mode, padding,
// timeouts, limits and failures.

#include <string>

#include "file_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using Transfer = FileCommandsTest;

TEST_F(Transfer, UploadThenDownloadRoundTrip) {
  const std::string data = "0123456789";
  EXPECT_EQ(upload("test.txt", data), upload_ok(data));
  // 3031 ^ 3233 ^ 3435 ^ 3637 ^ 3839, by hand
  EXPECT_EQ(quectel_checksum(data), "3839");
  std::string stored;
  ASSERT_TRUE(read_file("test.txt", stored));
  EXPECT_EQ(stored, data);
  EXPECT_EQ(drain("AT+QFDWL=\"test.txt\"\r"),
            "\r\nCONNECT\r\n" + data + "\r\n+QFDWL: 10,3839\r\n\r\nOK\r\n");
}

TEST_F(Transfer, BinaryDataWithNulsAndCommandLookalikes) {
  const std::string data =
      std::string("AT\r\n\0\0+++\r\nOK\r\n\x1a\xff", 17) + random_bytes(3001, 9);
  EXPECT_EQ(upload("UFS:bin.dat", data), upload_ok(data));
  std::string stored;
  ASSERT_TRUE(read_file("bin.dat", stored));
  EXPECT_EQ(stored, data);
  EXPECT_EQ(drain("AT+QFDWL=\"bin.dat\"\r"), "\r\nCONNECT\r\n" + data +
                                                 "\r\n+QFDWL: " + std::to_string(data.size()) +
                                                 "," + quectel_checksum(data) + "\r\n\r\nOK\r\n");
}

TEST_F(Transfer, LargeFileStreamsThroughTheOutputBound) {
  const std::string data = random_bytes(300 * 1024, 11);  // several times the 64 KiB bound
  EXPECT_EQ(upload("big.bin", data), upload_ok(data));
  std::string out = send("AT+QFDWL=\"big.bin\"\r");
  std::size_t largest = out.size();
  while (engine_->mode() != at::EngineMode::kCommand) {
    largest = std::max(largest, engine_->pending_output().size());
    out += engine_->take_output();
  }
  out += engine_->take_output();
  EXPECT_LE(largest, 64U * 1024U + 4096U) << "the download is pulled, not buffered whole";
  EXPECT_EQ(out, "\r\nCONNECT\r\n" + data + "\r\n+QFDWL: " + std::to_string(data.size()) + "," +
                     quectel_checksum(data) + "\r\n\r\nOK\r\n");
}

TEST_F(Transfer, ZeroByteUploadAndDownload) {
  EXPECT_EQ(upload("empty", ""), upload_ok(""));
  EXPECT_EQ(upload_ok(""), "\r\nCONNECT\r\n\r\n+QFUPL: 0,0\r\n\r\nOK\r\n");
  std::string stored = "x";
  ASSERT_TRUE(read_file("empty", stored));
  EXPECT_EQ(stored, "");
  EXPECT_EQ(drain("AT+QFDWL=\"empty\"\r"), "\r\nCONNECT\r\n\r\n+QFDWL: 0,0\r\n\r\nOK\r\n");
}

TEST_F(Transfer, AckModeSendsAnAEvery1024Bytes) {
  const std::string data = random_bytes(3000, 5);
  ASSERT_EQ(send("AT+QFUPL=\"ack.bin\",3000,5,1\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send(data.substr(0, 1000)), "");
  EXPECT_EQ(send(data.substr(1000, 24)), "A") << "the 1024th byte earns the first ack";
  EXPECT_EQ(send(data.substr(1024, 1024)), "A");
  EXPECT_EQ(send(data.substr(2048)),
            "\r\n+QFUPL: 3000," + quectel_checksum(data) + "\r\n\r\nOK\r\n")
      << "a last partial KiB gets no ack, the answer comes at once";
  std::string stored;
  ASSERT_TRUE(read_file("ack.bin", stored));
  EXPECT_EQ(stored, data);
}

TEST_F(Transfer, AckModeCountsAcrossOneBigWrite) {
  const std::string data = random_bytes(4096, 6);
  ASSERT_EQ(send("AT+QFUPL=\"ack.bin\",4096,5,1\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send(data), "AAAA\r\n+QFUPL: 4096," + quectel_checksum(data) + "\r\n\r\nOK\r\n");
}

TEST_F(Transfer, NoAcksWithoutAckMode) {
  ASSERT_EQ(send("AT+QFUPL=\"n.bin\",2048,5,0\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send(std::string(2048, 'n')), upload_ok(std::string(2048, 'n')).substr(11))
      << "no A before the answer";
}

TEST_F(Transfer, TrailingPaddingIsIgnored) {
  ASSERT_EQ(send("AT+QFUPL=\"pad.txt\",5\r"), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("hello" + std::string(100, '\0')),
            "\r\n+QFUPL: 5," + quectel_checksum("hello") + "\r\n\r\nOK\r\n");
  EXPECT_EQ(send(std::string(30, '\x1a')), "") << "padding in a later write is dropped too";
  std::string stored;
  ASSERT_TRUE(read_file("pad.txt", stored));
  EXPECT_EQ(stored, "hello");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n") << "the port is back in command state";
}

TEST_F(Transfer, TimeoutLeavesNoFile) {
  ASSERT_EQ(send("AT+QFUPL=\"slow.txt\",100,2\r"), "\r\nCONNECT\r\n");
  send("only forty bytes of the hundred........");
  EXPECT_EQ(advance(milliseconds(1999)), "");
  EXPECT_EQ(advance(milliseconds(1)), cme(421));
  std::string stored;
  EXPECT_FALSE(read_file("slow.txt", stored));
  EXPECT_EQ(send("AT+QFLST\r"), "\r\nOK\r\n");
  EXPECT_EQ(upload("slow.txt", "retry"), upload_ok("retry")) << "the name is free again";
}

TEST_F(Transfer, DefaultTimeoutIsFiveSeconds) {
  ASSERT_EQ(send("AT+QFUPL=\"d.txt\"\r"), "\r\nCONNECT\r\n") << "default size 10240";
  send(std::string(1000, 'd'));
  EXPECT_EQ(advance(milliseconds(4999)), "");
  EXPECT_EQ(advance(milliseconds(1)), cme(421));
}

TEST_F(Transfer, UploadRefusesAnExistingName) {
  put_file("keep.txt", "original");
  EXPECT_EQ(send("AT+QFUPL=\"keep.txt\",3\r"), cme(407));
  std::string stored;
  ASSERT_TRUE(read_file("keep.txt", stored));
  EXPECT_EQ(stored, "original");
}

TEST_F(Transfer, NameTakenDuringTheUploadWins) {
  ASSERT_EQ(send("AT+QFUPL=\"race.txt\",3\r"), "\r\nCONNECT\r\n");
  put_file("race.txt", "other port");
  EXPECT_EQ(send("new"), cme(407));
  std::string stored;
  ASSERT_TRUE(read_file("race.txt", stored));
  EXPECT_EQ(stored, "other port");
}

TEST_F(Transfer, LargerThanFreeSpaceIsRefusedUpFront) {
  const auto info = fs_->lock()->statfs().value();
  put_file("keep.txt", "precious");
  EXPECT_EQ(send("AT+QFUPL=\"huge\"," + std::to_string(info.free_bytes + 1) + "\r"), cme(403));
  EXPECT_EQ(send("AT+QFUPL=\"huge\"," + std::to_string(fs_config_.max_file_size + 1) + "\r"),
            cme(423));
  std::string stored;
  ASSERT_TRUE(read_file("keep.txt", stored));
  EXPECT_EQ(stored, "precious");
}

// Another writer (FUSE) takes the space an upload was promised, so its write
// fails part-way. The module still takes every announced byte as data, the
// command hidden after the failure point included, and answers after them.
TEST_F(Transfer, DriveFillingUpMidUploadLosesNothingAndRunsNoData) {
  put_file("victim.txt", "precious");
  fill_drive(200 * 1024);
  const auto free_before = free_bytes();
  ASSERT_GT(free_before, 100U * 1024U);
  std::string data = random_bytes(free_before / 2, 77);
  data.replace(data.size() - kDeleteVictim.size(), kDeleteVictim.size(), kDeleteVictim);
  ASSERT_EQ(send("AT+QFUPL=\"last\"," + std::to_string(data.size()) + "\r"), "\r\nCONNECT\r\n");
  put_file("hog", random_bytes(free_before * 3 / 4, 78));
  EXPECT_EQ(feed_in_pieces(*engine_, data, 1024), cme(420)) << "the answer after the last byte";
  std::string stored;
  EXPECT_FALSE(read_file("last", stored));
  ASSERT_TRUE(read_file("victim.txt", stored)) << "file data ran as AT+QFDEL";
  EXPECT_EQ(stored, "precious");
  EXPECT_EQ(send("AT+QFLST=\"victim.txt\"\r"), "\r\n+QFLST: \"victim.txt\",8\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDEL=\"hog\"\r"), "\r\nOK\r\n") << "a full drive can still delete";
  EXPECT_EQ(upload("last", data), upload_ok(data)) << "and then take the upload";
}

TEST_F(Transfer, AckModeGoesOnAfterAWriteFailedSoTheHostIsNotLeftWaiting) {
  put_file("victim.txt", "precious");
  fill_drive(200 * 1024);
  const auto free_before = free_bytes();
  std::string data = random_bytes(free_before / 2 / 1024 * 1024, 79);
  data.replace(data.size() - kDeleteVictim.size(), kDeleteVictim.size(), kDeleteVictim);
  ASSERT_EQ(send("AT+QFUPL=\"acked\"," + std::to_string(data.size()) + ",5,1\r"),
            "\r\nCONNECT\r\n");
  put_file("hog", random_bytes(free_before * 3 / 4, 80));
  EXPECT_EQ(feed_in_pieces(*engine_, data, 1024), std::string(data.size() / 1024, 'A') + cme(420));
  std::string stored;
  EXPECT_TRUE(read_file("victim.txt", stored));
  EXPECT_FALSE(read_file("acked", stored));
}

TEST_F(Transfer, AFailedUploadWhoseHostFallsSilentReportsTheWriteError) {
  fill_drive(200 * 1024);
  const auto free_before = free_bytes();
  ASSERT_EQ(send("AT+QFUPL=\"short\"," + std::to_string(free_before / 2) + ",2\r"),
            "\r\nCONNECT\r\n");
  put_file("hog", random_bytes(free_before * 3 / 4, 81));
  EXPECT_EQ(feed_in_pieces(*engine_, random_bytes(free_before / 3, 82), 1024), "");
  EXPECT_EQ(advance(milliseconds(1999)), "");
  EXPECT_EQ(advance(milliseconds(1)), cme(420)) << "the cause, not 421";
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

// Two ports that each announce 60 % of the free space: the second is refused
// before CONNECT instead of failing half-way through its data.
TEST_F(Transfer, TwoPortsCannotBothClaimTheSameFreeSpace) {
  at::EngineConfig config;
  config.now = [this] { return now_; };
  at::Engine second(registry_, config);
  second.settings().echo = false;
  second.settings().cmee = at::CmeeMode::kNumeric;
  const auto free_before = free_bytes();
  const std::uint64_t size = free_before * 3 / 5;
  ASSERT_EQ(send("AT+QFUPL=\"one\"," + std::to_string(size) + "\r"), "\r\nCONNECT\r\n");
  const std::uint64_t left = free_bytes() - size;  // the temporary file took a page or so
  second.feed("AT+QFUPL=?\r");
  EXPECT_EQ(second.take_output(), "\r\n+QFUPL: <filename>[,(1-" + std::to_string(left) +
                                      ")[,(1-65535)[,(0,1)]]]\r\n\r\nOK\r\n");
  second.feed("AT+QFUPL=\"two\"," + std::to_string(size) + "\r");
  EXPECT_EQ(second.take_output(), cme(403));
  second.feed("AT+QFUPL=\"two\"," + std::to_string(left / 2) + "\r");
  EXPECT_EQ(second.take_output(), "\r\nCONNECT\r\n") << "what is left may still be taken";
  second.reset();  // that host went away
  const std::string data = random_bytes(size, 83);
  EXPECT_EQ(feed_in_pieces(*engine_, data, 4096), upload_ok(data).substr(11));
  std::string stored;
  ASSERT_TRUE(read_file("one", stored));
  EXPECT_TRUE(stored == data);
}

TEST_F(Transfer, ReservedSpaceComesBackOnEveryEnd) {
  const auto free_before = free_bytes();
  const std::string big = std::to_string(free_before * 3 / 5);
  const std::string claim = "AT+QFUPL=\"r\"," + big + ",1\r";
  at::EngineConfig config;
  config.now = [this] { return now_; };
  at::Engine second(registry_, config);
  second.settings().echo = false;
  second.settings().cmee = at::CmeeMode::kNumeric;
  // Abort: the port is reset (USB re-enumeration, the host closed it).
  ASSERT_EQ(send(claim), "\r\nCONNECT\r\n");
  engine_->reset();
  engine_->settings().echo = false;
  engine_->settings().cmee = at::CmeeMode::kNumeric;
  second.feed(claim);
  ASSERT_EQ(second.take_output(), "\r\nCONNECT\r\n");
  // Timeout: the host never sends a byte.
  now_ += milliseconds(1000);
  second.poll();
  EXPECT_EQ(second.take_output(), "\r\n+CME ERROR: 421\r\n");
  ASSERT_EQ(send(claim), "\r\nCONNECT\r\n");
  // Power loss: every reservation goes, and the engines' late aborts do not
  // give back what is no longer held.
  second.feed(std::string("AT+QFUPL=\"s\",10\r"));
  ASSERT_EQ(second.take_output(), "\r\nCONNECT\r\n");
  power_cycle();
  second.reset();
  EXPECT_EQ(send("AT+QFUPL=?\r"), "\r\n+QFUPL: <filename>[,(1-" + std::to_string(free_bytes()) +
                                      ")[,(1-65535)[,(0,1)]]]\r\n\r\nOK\r\n");
  EXPECT_EQ(send(claim), "\r\nCONNECT\r\n");
}

TEST_F(Transfer, UploadParameterErrors) {
  EXPECT_EQ(send("AT+QFUPL=\"a\",-1\r"), cme(425));
  EXPECT_EQ(send("AT+QFUPL=\"a\",10,0\r"), cme(425));
  EXPECT_EQ(send("AT+QFUPL=\"a\",10,65536\r"), cme(425));
  EXPECT_EQ(send("AT+QFUPL=\"a\",10,5,2\r"), cme(425));
  EXPECT_EQ(send("AT+QFUPL=\"a\",\"ten\"\r"), cme(400));
  EXPECT_EQ(send("AT+QFUPL=\"a\",10,5,0,1\r"), cme(400));
  EXPECT_EQ(send("AT+QFUPL=\"../a\",10\r"), cme(406));
  EXPECT_EQ(send("AT+QFUPL=\"/tmp/a\",10\r"), cme(406));
  EXPECT_EQ(send("AT+QFUPL=\"a*\",10\r"), cme(406));
  EXPECT_EQ(send("AT+QFUPL=\"" + std::string(65, 'n') + "\",10\r"), cme(406));
  EXPECT_EQ(send("AT+QFUPL=5\r"), cme(400));
  EXPECT_EQ(send("AT+QFLST\r"), "\r\nOK\r\n") << "nothing was created";
}

TEST_F(Transfer, TestForms) {
  const auto info = fs_->lock()->statfs().value();
  EXPECT_EQ(send("AT+QFUPL=?\r"), "\r\n+QFUPL: <filename>[,(1-" + std::to_string(info.free_bytes) +
                                      ")[,(1-65535)[,(0,1)]]]\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDWL=?\r"), "\r\n+QFDWL: <filename>\r\n\r\nOK\r\n");
}

TEST_F(Transfer, DownloadErrors) {
  EXPECT_EQ(send("AT+QFDWL=\"none\"\r"), cme(405));
  EXPECT_EQ(send("AT+QFDWL=\"../etc/passwd\"\r"), cme(406));
  EXPECT_EQ(send("AT+QFDWL=\".qfupl\"\r"), cme(406));
  EXPECT_EQ(send("AT+QFDWL\r"), "\r\nERROR\r\n") << "no execute form";
}

TEST_F(Transfer, PortResetMidUploadLeavesNoFile) {
  ASSERT_EQ(send("AT+QFUPL=\"cut.bin\",5000\r"), "\r\nCONNECT\r\n");
  send(random_bytes(3000, 1));
  engine_->reset();  // the host went away (USB port re-enumerated)
  engine_->settings().echo = false;
  std::string stored;
  EXPECT_FALSE(read_file("cut.bin", stored));
  EXPECT_EQ(send("AT+QFLST\r"), "\r\nOK\r\n");
  EXPECT_EQ(upload("cut.bin", "again"), upload_ok("again"));
}

TEST_F(Transfer, ConcurrentUploadsOnTwoPortsStaySeparate) {
  at::EngineConfig config;
  config.now = [this] { return now_; };
  at::Engine second(registry_, config);
  second.settings().echo = false;
  ASSERT_EQ(send("AT+QFUPL=\"one\",4\r"), "\r\nCONNECT\r\n");
  second.feed("AT+QFUPL=\"two\",4\r");
  EXPECT_EQ(second.take_output(), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("1111"), upload_ok("1111").substr(11));
  second.feed("2222");
  EXPECT_EQ(second.take_output(), upload_ok("2222").substr(11));
  std::string one;
  std::string two;
  ASSERT_TRUE(read_file("one", one));
  ASSERT_TRUE(read_file("two", two));
  EXPECT_EQ(one + two, "11112222");
}

}  // namespace
}  // namespace vmodem::sim::testing
