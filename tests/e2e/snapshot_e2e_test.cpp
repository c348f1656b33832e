// Snapshots and the host's disk through the real daemon: paths a host may
// name for snapshot-save/-load (the live image, links to it, a FIFO, a
// device), and a disk too small or full under the image.
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_support.hpp"
#include "temp_dir.hpp"

namespace vmodem::e2e {
namespace {

std::string payload(std::size_t size, std::uint32_t seed) {
  std::string data(size, '\0');
  for (auto& c : data) {
    seed = seed * 1103515245 + 12345;
    c = static_cast<char>(seed >> 16);
  }
  return data;
}

// Uploads `data` as `name` (ATE0 assumed); returns the final response.
std::string upload(Host& host, const std::string& name, const std::string& data) {
  host.write("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + "\r");
  const auto connect = host.read_until("CONNECT\r\n");
  if (connect.find("CONNECT") == std::string::npos) return connect;
  host.write(data);
  return host.read_until("OK\r\n", 10000ms);
}

ino_t inode_of(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

mode_t type_of(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

// The error class of a failed `vmodem ctl` (exit 1, the module's error), or
// "no error".
std::string class_of(const nlohmann::json& reply) {
  if (!reply.contains("error") || reply["error"] != 1) return "no error: " + reply.dump();
  const auto out = reply["output"].get<std::string>();
  for (const char* name : {"InvalidParameter", "GenericError", "DeviceBusy", "DeviceNotActive"}) {
    if (out.find(name) != std::string::npos) return name;
  }
  return out;
}

// One raw request line on the control socket; returns the reply line.
std::string raw_request(const std::filesystem::path& socket, const std::string& line) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket.c_str());
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
    // The greeting, then the reply: two lines.
    char c = 0;
    int lines = 0;
    pollfd p{fd, POLLIN, 0};
    while (lines < 2 && ::poll(&p, 1, 10000) > 0 && ::read(fd, &c, 1) == 1) {
      got += c;
      if (c == '\n') ++lines;
    }
  }
  ::close(fd);
  return got;
}

TEST(Snapshot, SaveRefusesTheLiveImageAndWhatIsNotARegularFile) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  const auto image = daemon.state() / "nand.img";
  const auto live_inode = inode_of(image);
  const auto dir = daemon.state().parent_path();
  std::filesystem::create_hard_link(image, dir / "hard.img");
  std::filesystem::create_symlink(image, dir / "soft.img");
  std::filesystem::create_symlink("/dev/null", dir / "null.img");
  ASSERT_EQ(::mkfifo((dir / "fifo.img").c_str(), 0600), 0);

  for (const auto& path : {image, dir / "hard.img", dir / "soft.img", dir / "null.img",
                           dir / "fifo.img", daemon.state()}) {
    const auto reply = daemon.ctl("snapshot-save --path " + path.string());
    EXPECT_EQ(class_of(reply), "InvalidParameter") << path << ": " << reply.dump();
  }
  EXPECT_EQ(inode_of(image), live_inode) << "the live image was not replaced";
  EXPECT_EQ(type_of(dir / "soft.img"), S_IFLNK);
  EXPECT_EQ(type_of(dir / "null.img"), S_IFLNK);
  EXPECT_EQ(type_of("/dev/null"), S_IFCHR);
  EXPECT_EQ(type_of(dir / "fifo.img"), S_IFIFO);
  for (const auto& entry : std::filesystem::directory_iterator(daemon.state()))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();

  // Writes after the refusals still reach the image file: a kill -9 and a
  // restart find them.
  const auto data = payload(20000, 5);
  ASSERT_NE(upload(host, "after.bin", data).find("+QFUPL: 20000"), std::string::npos);
  daemon.kill_hard();
  daemon.start();
  Host again(daemon.port("ttyUSB2"));
  again.read_until_booted();
  EXPECT_NE(again.command("AT+QFLST=\"after.bin\"").find("+QFLST: \"after.bin\",20000"),
            std::string::npos);
}

TEST(Snapshot, SaveRefusesAPathWithANulByte) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  const auto target = daemon.state().parent_path() / "x.img";
  // JSON's \u0000 arrives as a NUL byte in the path string.
  const auto out = raw_request(daemon.state() / "control.sock",
                               "{\"execute\":\"snapshot-save\",\"arguments\":{\"path\":\"" +
                                   target.string() + "\\u0000.evil\"}}\n");
  EXPECT_NE(out.find("\"InvalidParameter\""), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(target)) << "nothing written under the truncated name";
}

TEST(Snapshot, SaveThenLoadBringsTheFilesBack) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  const auto saved = daemon.state().parent_path() / "before.img";
  { std::ofstream(saved) << "an older file, replaced"; }
  const auto reply = daemon.ctl("snapshot-save --path " + saved.string());
  ASSERT_EQ(reply.value("path", ""), saved.string()) << reply.dump();
  EXPECT_EQ(reply["bytes"], std::filesystem::file_size(daemon.state() / "nand.img"));
  ASSERT_NE(upload(host, "later.bin", payload(3000, 9)).find("+QFUPL: 3000"), std::string::npos);
  ASSERT_FALSE(daemon.ctl("power-cut").contains("error"));
  ASSERT_TRUE(daemon.wait_power("off"));
  const auto loaded = daemon.ctl("snapshot-load --path " + saved.string());
  EXPECT_EQ(loaded.value("path", ""), saved.string()) << loaded.dump();
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  Host again(daemon.port("ttyUSB2"));
  again.read_until_booted();
  EXPECT_NE(again.command("AT+QFLST=\"later.bin\"").find("ERROR"), std::string::npos)
      << "the snapshot predates the upload";
}

TEST(Snapshot, LoadOfAFifoIsRefusedAndNothingStops) {
  Daemon daemon({"--uart"});
  ASSERT_TRUE(daemon.wait_booted());
  ASSERT_FALSE(daemon.ctl("power-off").contains("error"));
  ASSERT_TRUE(daemon.wait_power("off"));
  const auto fifo = daemon.state().parent_path() / "pipe.img";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Nobody ever writes the FIFO: a load that opened it blocking would hang
  // the daemon's only io thread (status, power-on and the ports with it).
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(class_of(daemon.ctl("--timeout 5 snapshot-load --path " + fifo.string())),
            "InvalidParameter");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(daemon.ctl("--timeout 5 status").value("power", ""), "off");
  ASSERT_FALSE(daemon.ctl("--timeout 5 power-on").contains("error"));
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  EXPECT_EQ(host.command("AT"), "AT\r\r\nOK\r\n");
  Host uart(daemon.port("ttyS0"));
  EXPECT_EQ(uart.command("AT"), "AT\r\r\nOK\r\n");
}

TEST(Snapshot, LoadRefusesAFileThatIsNotAnImageOfThisModule) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  ASSERT_FALSE(daemon.ctl("power-cut").contains("error"));
  ASSERT_TRUE(daemon.wait_power("off"));
  const auto junk = daemon.state().parent_path() / "junk.img";
  { std::ofstream(junk) << "not an image"; }
  EXPECT_EQ(class_of(daemon.ctl("snapshot-load --path " + junk.string())), "InvalidParameter");
  EXPECT_EQ(class_of(daemon.ctl("snapshot-load --path /dev/zero")), "InvalidParameter");
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  EXPECT_TRUE(daemon.wait_booted()) << "the NAND was left as it was";
}

// A tmpfs of `megabytes` at a fresh directory, unmounted at destruction.
// Skips the test where mounting is not allowed (not root, no CAP_SYS_ADMIN).
class SmallDisk {
 public:
  explicit SmallDisk(int megabytes) {
    const std::string options = "size=" + std::to_string(megabytes) + "m,mode=0700";
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::filesystem::path& path() const { return dir_.path(); }
  // Writes a file until the disk is full.
  void fill(const std::string& name) const {
    const int fd = ::open((dir_.path() / name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char> chunk(1 << 16, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
  }

 private:
  vmodem::testing::TempDir dir_;
  bool mounted_ = false;
};

TEST(DiskFull, AnImageThatDoesNotFitIsRefusedAtStart) {
  SmallDisk disk(64);  // the BG95's image is 274 MiB
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  const auto log = disk.path().parent_path() / (disk.path().filename().string() + ".out");
  const pid_t pid = spawn_logged(
      {vmodem_binary(), "run", "--state", (disk.path() / "s").string(), "--seed", "3"}, log);
  ASSERT_GT(pid, 0);
  int status = 0;
  pid_t exited = 0;
  for (int i = 0; i < 3000 && exited == 0; ++i) {  // up to 30 s
    exited = ::waitpid(pid, &status, WNOHANG);
    if (exited == 0) std::this_thread::sleep_for(10ms);
  }
  if (exited == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "vmodem run kept running on a disk that cannot hold its image";
  }
  std::ifstream in(log);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(log);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n" << out;
  EXPECT_EQ(WEXITSTATUS(status), 7) << out;
  EXPECT_NE(out.find("not enough disk space for the "), std::string::npos) << out;
  EXPECT_NE(out.find(" MiB image at " + (disk.path() / "s" / "nand.img").string()),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(disk.path() / "s" / "nand.img"))
      << "no half-made image left behind";
}

TEST(DiskFull, WritesAfterTheDiskFillsStillLandInTheImage) {
  SmallDisk disk(290);  // the image (274 MiB) and the log fit
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  Daemon daemon({}, disk.path() / "s");
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until_booted(10000ms).find("APP RDY"), std::string::npos) << daemon.log();
  host.command("ATE0");
  disk.fill("filler");  // now every byte of the disk is taken
  // Parts of a sparse image the first boot never wrote (the first boot
  // erases every file-system block, which allocates it) need new disk
  // blocks when first stored to: the damage records of pages with flipped
  // bits are such a part. With a sparse image the first store to one kills
  // the daemon with SIGBUS.
  for (int page = 0; page < 16; ++page) {
    const auto injected = daemon.ctl("inject --kind bit-flips --partition usrfs --block 1 --page " +
                                     std::to_string(page) + " --bits 1");
    ASSERT_FALSE(injected.contains("error")) << injected.dump() << "\n" << daemon.log();
  }
  for (int i = 0; i < 8; ++i) {
    const auto name = "f" + std::to_string(i) + ".bin";
    ASSERT_NE(upload(host, name, payload(200 * 1024, i)).find("+QFUPL: 204800"), std::string::npos)
        << name << "\n"
        << daemon.log();
  }
  EXPECT_EQ(host.command("AT+CFUN=1,1"), "\r\nOK\r\n");
  EXPECT_TRUE(host.hung_up());
  Host again(daemon.port("ttyUSB2"));
  ASSERT_NE(again.read_until_booted(10000ms).find("APP RDY"), std::string::npos) << daemon.log();
  EXPECT_NE(again.command("AT+QFLST=\"f7.bin\"").find("+QFLST: \"f7.bin\",204800"),
            std::string::npos);
  EXPECT_EQ(daemon.ctl("status")["image_lost_pages"], 0);
  // In the file, not just in memory: a kill -9 and a restart find them.
  daemon.kill_hard();
  daemon.start();
  Host restarted(daemon.port("ttyUSB2"));
  ASSERT_NE(restarted.read_until_booted(10000ms).find("APP RDY"), std::string::npos)
      << daemon.log();
  EXPECT_NE(restarted.command("AT+QFLST=\"f7.bin\"").find("+QFLST: \"f7.bin\",204800"),
            std::string::npos);
  EXPECT_GE(daemon.ctl("stats")["damaged_pages"], 16) << "the damage records were saved";
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// Another process truncates the live image (the daemon's flock keeps only
// vmodem tools away): the pages are gone from under the mapping. The daemon
// keeps answering and says why, instead of dying with SIGBUS.
TEST(DiskFull, ATruncatedImageIsReportedNotFatal) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  ASSERT_EQ(::truncate((daemon.state() / "nand.img").c_str(), 0), 0);
  upload(host, "after.bin", payload(50000, 3));  // may fail: the flash reads erased now
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
  const auto status = daemon.ctl("status");
  EXPECT_GT(status.value("image_lost_pages", 0), 0) << status.dump();
  EXPECT_NE(daemon.log().find("lost"), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace vmodem::e2e
