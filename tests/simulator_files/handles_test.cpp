// Handle-based I/O: AT+QFOPEN, +QFREAD, +QFWRITE, +QFSEEK, +QFPOSITION,
// +QFTUCAT, +QFCLOSE.

#include <string>

#include "file_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class Handles : public FileCommandsTest {
 protected:
  // AT+QFOPEN; returns the handle (asserting the answer's shape).
  int open(std::string_view name, int mode) {
    const std::string out =
        send("AT+QFOPEN=\"" + std::string(name) + "\"," + std::to_string(mode) + "\r");
    int handle = -1;
    EXPECT_EQ(std::sscanf(out.c_str(), "\r\n+QFOPEN: %d\r\n", &handle), 1) << out;
    EXPECT_EQ(out, "\r\n+QFOPEN: " + std::to_string(handle) + "\r\n\r\nOK\r\n");
    return handle;
  }

  std::string write(int handle, std::string_view data) {
    std::string out =
        send("AT+QFWRITE=" + std::to_string(handle) + "," + std::to_string(data.size()) + "\r");
    if (out != "\r\nCONNECT\r\n") return out;
    return out + send(data);
  }

  std::string read(int handle, std::string_view length = "") {
    std::string command = "AT+QFREAD=" + std::to_string(handle);
    if (!length.empty()) command += "," + std::string(length);
    return send(command + "\r");
  }
};

TEST_F(Handles, WriteSeekReadRoundTrip) {
  const int h = open("data.bin", 0);
  const std::string data = std::string("x\0y\r\nAT\r", 8) + random_bytes(2000, 2);
  EXPECT_EQ(write(h, data), "\r\nCONNECT\r\n\r\n+QFWRITE: 2008,2008\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFPOSITION=" + std::to_string(h) + "\r"),
            "\r\n+QFPOSITION: 2008\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFSEEK=" + std::to_string(h) + ",0,0\r"), "\r\nOK\r\n");
  EXPECT_EQ(read(h, "10"), "\r\nCONNECT 10\r\n" + data.substr(0, 10) + "\r\nOK\r\n");
  EXPECT_EQ(read(h), "\r\nCONNECT 1998\r\n" + data.substr(10) + "\r\nOK\r\n") << "to the end";
  EXPECT_EQ(read(h, "10"), "\r\nCONNECT 0\r\n\r\nOK\r\n") << "at the end";
  EXPECT_EQ(send("AT+QFCLOSE=" + std::to_string(h) + "\r"), "\r\nOK\r\n");
  std::string stored;
  ASSERT_TRUE(read_file("data.bin", stored));
  EXPECT_EQ(stored, data);
}

// A command chained after the write runs when the write's data is in, and
// takes the file system's lock itself: the write answers with it released.
TEST_F(Handles, ACommandChainedAfterAWriteRunsWhenTheDataIsIn) {
  const int h = open("chain.bin", 0);
  const std::string id = std::to_string(h);
  ASSERT_EQ(send("AT+QFWRITE=" + id + ",4;+QFPOSITION=" + id + "\r"), "\r\nCONNECT\r\n");
  const std::string out = send("abcd");
  EXPECT_EQ(out, "\r\n+QFWRITE: 4,4\r\n\r\n+QFPOSITION: 4\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFCLOSE=" + id + "\r"), "\r\nOK\r\n");
}

TEST_F(Handles, ModesCreateKeepTruncateAndReadOnly) {
  put_file("f.txt", "original");
  int h = open("f.txt", 0);  // keeps the content
  EXPECT_EQ(read(h), "\r\nCONNECT 8\r\noriginal\r\nOK\r\n");
  EXPECT_EQ(write(h, "++"), "\r\nCONNECT\r\n\r\n+QFWRITE: 2,10\r\n\r\nOK\r\n") << "appends at pos";
  send("AT+QFCLOSE=" + std::to_string(h) + "\r");
  h = open("f.txt", 1);  // starts empty
  EXPECT_EQ(read(h), "\r\nCONNECT 0\r\n\r\nOK\r\n");
  EXPECT_EQ(write(h, "new"), "\r\nCONNECT\r\n\r\n+QFWRITE: 3,3\r\n\r\nOK\r\n");
  send("AT+QFCLOSE=" + std::to_string(h) + "\r");
  h = open("f.txt", 2);  // read only
  EXPECT_EQ(read(h), "\r\nCONNECT 3\r\nnew\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFWRITE=" + std::to_string(h) + ",1\r"), cme(414));
  EXPECT_EQ(send("AT+QFTUCAT=" + std::to_string(h) + "\r"), cme(414));
  send("AT+QFCLOSE=" + std::to_string(h) + "\r");
  EXPECT_EQ(send("AT+QFOPEN=\"missing\",2\r"), cme(405));
  const int created = open("created", 0);
  EXPECT_GT(created, 0);
  EXPECT_EQ(send("AT+QFOPEN=\"created2\"\r").rfind("\r\n+QFOPEN: ", 0), 0U) << "mode defaults to 0";
  std::string stored;
  EXPECT_TRUE(read_file("created2", stored));
}

TEST_F(Handles, OpenErrors) {
  EXPECT_EQ(send("AT+QFOPEN=\"a\",3\r"), cme(425));
  EXPECT_EQ(send("AT+QFOPEN=\"../a\",0\r"), cme(406));
  EXPECT_EQ(send("AT+QFOPEN=\"a\",0,1\r"), cme(400));
  open("a", 0);
  EXPECT_EQ(send("AT+QFOPEN=\"a\",2\r"), cme(426)) << "already open";
  EXPECT_EQ(send("AT+QFOPEN=?\r"), "\r\n+QFOPEN: <filename>[,(0-2)]\r\n\r\nOK\r\n");
}

TEST_F(Handles, ReadFormListsOpenFiles) {
  EXPECT_EQ(send("AT+QFOPEN?\r"), "\r\nOK\r\n");
  const int a = open("a", 0);
  const int b = open("b", 1);
  EXPECT_EQ(send("AT+QFOPEN?\r"), "\r\n+QFOPEN: \"a\"," + std::to_string(a) +
                                      ",0\r\n+QFOPEN: \"b\"," + std::to_string(b) +
                                      ",1\r\n\r\nOK\r\n");
}

TEST_F(Handles, TooManyOpenFiles) {
  for (int i = 0; i < 16; ++i)
    open("f" + std::to_string(i), 0);
  EXPECT_EQ(send("AT+QFOPEN=\"f16\",0\r"), cme(413));
  EXPECT_EQ(send("AT+QFCLOSE=1\r"), "\r\nOK\r\n");
  EXPECT_GT(open("f16", 0), 0) << "a closed handle makes room";
}

TEST_F(Handles, InvalidHandles) {
  EXPECT_EQ(send("AT+QFREAD=99\r"), cme(416));
  EXPECT_EQ(send("AT+QFWRITE=99,1\r"), cme(416));
  EXPECT_EQ(send("AT+QFSEEK=99,0\r"), cme(416));
  EXPECT_EQ(send("AT+QFPOSITION=99\r"), cme(416));
  EXPECT_EQ(send("AT+QFTUCAT=99\r"), cme(416));
  EXPECT_EQ(send("AT+QFCLOSE=99\r"), cme(416));
  const int h = open("a", 0);
  EXPECT_EQ(send("AT+QFCLOSE=" + std::to_string(h) + "\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFCLOSE=" + std::to_string(h) + "\r"), cme(416)) << "closed twice";
  EXPECT_EQ(send("AT+QFREAD=\"1\"\r"), cme(400));
  EXPECT_EQ(send("AT+QFREAD=-1\r"), cme(425));
}

TEST_F(Handles, ResetForgetsHandlesAndCommitsData) {
  const int h = open("kept.txt", 0);
  ASSERT_EQ(write(h, "data"), "\r\nCONNECT\r\n\r\n+QFWRITE: 4,4\r\n\r\nOK\r\n");
  handles_->reset();  // AT+CFUN=1,1: the file system stays mounted
  EXPECT_EQ(send("AT+QFCLOSE=" + std::to_string(h) + "\r"), cme(416));
  std::string stored;
  ASSERT_TRUE(read_file("kept.txt", stored));
  EXPECT_EQ(stored, "data");
  EXPECT_EQ(send("AT+QFDEL=\"kept.txt\"\r"), "\r\nOK\r\n") << "no fs handle was leaked";
}

TEST_F(Handles, SeekRules) {
  const int h = open("s.txt", 1);
  write(h, "0123456789");
  const std::string hs = std::to_string(h);
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",4\r"), "\r\nOK\r\n") << "position defaults to the start";
  EXPECT_EQ(read(h, "2"), "\r\nCONNECT 2\r\n45\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",2,1\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFPOSITION=" + hs + "\r"), "\r\n+QFPOSITION: 8\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",11,0\r"), cme(401)) << "past the end from the start";
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",3,1\r"), cme(401)) << "past the end from here";
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",10,0\r"), "\r\nOK\r\n") << "exactly the end is fine";
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",0,2\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFPOSITION=" + hs + "\r"), "\r\n+QFPOSITION: 10\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",2,2\r"), "\r\nOK\r\n") << "from the end it may go beyond";
  EXPECT_EQ(send("AT+QFPOSITION=" + hs + "\r"), "\r\n+QFPOSITION: 12\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",0,3\r"), cme(425));
  EXPECT_EQ(send("AT+QFSEEK=" + hs + ",-1,0\r"), cme(425));
  EXPECT_EQ(send("AT+QFSEEK=" + hs + "\r"), cme(400));
  EXPECT_EQ(send("AT+QFSEEK=?\r"), "\r\n+QFSEEK: <filehandle>,<offset>[,(0-2)]\r\n\r\nOK\r\n");
}

TEST_F(Handles, TruncateAtThePointer) {
  const int h = open("t.txt", 1);
  const std::string hs = std::to_string(h);
  write(h, "0123456789");
  send("AT+QFSEEK=" + hs + ",4,0\r");
  EXPECT_EQ(send("AT+QFTUCAT=" + hs + "\r"), "\r\nOK\r\n");
  std::string stored;
  ASSERT_TRUE(read_file("t.txt", stored));
  EXPECT_EQ(stored, "0123");
  EXPECT_EQ(send("AT+QFLST=\"t.txt\"\r"), "\r\n+QFLST: \"t.txt\",4\r\n\r\nOK\r\n");
}

TEST_F(Handles, WriteTimeoutKeepsWhatArrived) {
  const int h = open("w.txt", 1);
  ASSERT_EQ(send("AT+QFWRITE=" + std::to_string(h) + ",10,2\r"), "\r\nCONNECT\r\n");
  send("abcd");
  EXPECT_EQ(advance(milliseconds(1999)), "");
  EXPECT_EQ(advance(milliseconds(1)), "\r\n+QFWRITE: 4,4\r\n\r\nOK\r\n");
  std::string stored;
  ASSERT_TRUE(read_file("w.txt", stored));
  EXPECT_EQ(stored, "abcd") << "durable once acknowledged";
}

TEST_F(Handles, WriteParameterErrors) {
  const std::string hs = std::to_string(open("w.txt", 0));
  EXPECT_EQ(send("AT+QFWRITE=" + hs + "\r"), cme(400)) << "length is required";
  EXPECT_EQ(send("AT+QFWRITE=" + hs + ",0\r"), cme(425));
  EXPECT_EQ(send("AT+QFWRITE=" + hs + ",1,0\r"), cme(425));
  EXPECT_EQ(send("AT+QFWRITE=" + hs + ",1,5,0\r"), cme(400));
  EXPECT_EQ(send("AT+QFWRITE=?\r"),
            "\r\n+QFWRITE: <filehandle>,<length>[,(1-65535)]\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFREAD=?\r"), "\r\n+QFREAD: <filehandle>[,<length>]\r\n\r\nOK\r\n");
}

// The disk fills up under a write (another writer took the space): every
// announced byte is still data, the error comes after the last one.
TEST_F(Handles, WriteThatFailsPartWayRunsNoneOfItsData) {
  put_file("victim.txt", "precious");
  const int h = open("log.bin", 0);
  fill_drive(200 * 1024);
  const auto free_before = free_bytes();
  std::string data = random_bytes(free_before / 2, 90);
  data.replace(data.size() - kDeleteVictim.size(), kDeleteVictim.size(), kDeleteVictim);
  ASSERT_EQ(send("AT+QFWRITE=" + std::to_string(h) + "," + std::to_string(data.size()) + "\r"),
            "\r\nCONNECT\r\n");
  put_file("hog", random_bytes(free_before * 3 / 4, 91));
  EXPECT_EQ(feed_in_pieces(*engine_, data, 1024), cme(420)) << "the answer after the last byte";
  std::string stored;
  ASSERT_TRUE(read_file("victim.txt", stored)) << "file data ran as AT+QFDEL";
  EXPECT_EQ(send("AT+QFLST=\"victim.txt\"\r"), "\r\n+QFLST: \"victim.txt\",8\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDEL=\"hog\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFCLOSE=" + std::to_string(h) + "\r"), "\r\nOK\r\n");
}

TEST_F(Handles, WritePastTheFileSizeLimitIsRefusedBeforeConnect) {
  put_file("victim.txt", "precious");
  const std::string hs = std::to_string(open("big.bin", 0));
  const auto limit = fs_config_.max_file_size;
  ASSERT_EQ(send("AT+QFSEEK=" + hs + "," + std::to_string(limit - 4) + ",2\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFWRITE=" + hs + ",30\r"), cme(423));
  EXPECT_EQ(send("AT+QFWRITE=" + hs + ",4\r"), "\r\nCONNECT\r\n") << "up to the limit is fine";
}

TEST_F(Handles, WriteCannotTakeSpaceARunningUploadHolds) {
  const std::string hs = std::to_string(open("w.bin", 0));
  at::EngineConfig config;
  config.now = [this] { return now_; };
  at::Engine second(registry_, config);
  second.settings().echo = false;
  const auto free_before = free_bytes();
  const std::string size = std::to_string(free_before * 3 / 5);
  second.feed("AT+QFUPL=\"u\"," + size + "\r");
  ASSERT_EQ(second.take_output(), "\r\nCONNECT\r\n");
  EXPECT_EQ(send("AT+QFWRITE=" + hs + "," + size + "\r"), cme(403));
  second.reset();
  EXPECT_EQ(send("AT+QFWRITE=" + hs + "," + size + "\r"), "\r\nCONNECT\r\n");
}

TEST_F(Handles, HandleWorksFromAnotherPort) {
  const int h = open("shared.txt", 0);
  write(h, "hello");
  at::EngineConfig config;
  config.now = [this] { return now_; };
  at::Engine second(registry_, config);
  second.settings().echo = false;
  second.feed("AT+QFSEEK=" + std::to_string(h) + ",1\r");
  EXPECT_EQ(second.take_output(), "\r\nOK\r\n");
  second.feed("AT+QFREAD=" + std::to_string(h) + "\r");
  EXPECT_EQ(second.take_output(), "\r\nCONNECT 4\r\nello\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
