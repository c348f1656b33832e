// The PTY adapter through a real PTY pair: the test is the host.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <vmodem/at/pty_port.hpp>

#include "pty_host.hpp"

namespace vmodem::at::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

class PtyPortTest : public ::testing::Test {
 protected:
  PtyPortTest() {
    std::string pattern = (fs::temp_directory_path() / "vmodem-at-XXXXXX").string();
    state_dir_ = ::mkdtemp(pattern.data());
    install_v250_commands(registry_);
    (void)registry_.add("+QFUPL", {.write = [this](Call& call) {
                          Responder responder = call.responder;
                          UploadSpec spec;
                          spec.expected_bytes = static_cast<std::size_t>(
                              call.command.arg(1).as_integer().value_or(0));
                          spec.trailing_grace = milliseconds(10);
                          spec.on_end = [this, responder](UploadEnd end, std::size_t n) mutable {
                            last_upload_ = {end, n};
                            responder.info("+QFUPL: " + std::to_string(n) + ",0");
                            responder.ok();
                          };
                          call.responder.start_upload(std::move(spec));
                        }});
    (void)registry_.add("+QFDWL", {.write = [](Call& call) {
                          Responder responder = call.responder;
                          auto left = std::make_shared<std::size_t>(static_cast<std::size_t>(
                              call.command.arg(1).as_integer().value_or(0)));
                          DownloadSpec spec;
                          spec.fill = [left](std::span<std::uint8_t> room) {
                            const std::size_t n = std::min(room.size(), *left);
                            std::fill_n(room.begin(), n, std::uint8_t{'d'});
                            *left -= n;
                            return n;
                          };
                          spec.on_end = [responder](DownloadEnd) mutable {
                            responder.info("+QFDWL: done");
                            responder.ok();
                          };
                          call.responder.start_download(std::move(spec));
                        }});
    (void)registry_.add("+DIAL",
                        {.execute = [this](Call& call) { link_ = call.responder.go_online({}); }});
    thread_ = std::thread([this] { io_.run(); });
  }

  ~PtyPortTest() override {
    on_io([this] { port_.reset(); });
    work_.reset();
    thread_.join();
    std::error_code ignored;
    fs::remove_all(state_dir_, ignored);
  }

  // Runs `job` on the io thread and waits for it (ports are single-threaded).
  template <typename Job>
  std::invoke_result_t<Job> on_io(Job job) {
    std::packaged_task<decltype(job())()> task(std::move(job));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  OnlineLink link_;                                               // +DIAL's, on the io thread
  std::optional<std::pair<UploadEnd, std::size_t>> last_upload_;  // +QFUPL's, on the io thread

  // Keeps the io thread busy until destroyed: what hosts do meanwhile is
  // all there, at once, when the port looks next — as on a loaded machine.
  class IoHold {
   public:
    explicit IoHold(PtyPortTest& test) {
      std::promise<void> held;
      auto is_held = held.get_future();
      asio::post(test.io_, [held = std::move(held), release = release_.get_future()]() mutable {
        held.set_value();
        release.wait();
      });
      is_held.wait();
    }
    ~IoHold() { release_.set_value(); }
    IoHold(const IoHold&) = delete;
    IoHold& operator=(const IoHold&) = delete;

   private:
    std::promise<void> release_;
  };

  // A host's first steps in the tests below: echo off, then `command`,
  // which enters data mode (CONNECT).
  static void echo_off_and_connect(HostSerial& host, const std::string& command) {
    ASSERT_TRUE(host.write("ATE0\r"));
    ASSERT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
    ASSERT_TRUE(host.write(command + "\r"));
    ASSERT_EQ(host.read_until("CONNECT\r\n"), "\r\nCONNECT\r\n");
  }

  void start(PortStyle style) {
    on_io([this, style] {
      PtyPortOptions options{.link = link(), .style = style};
      options.host_changed = [this](bool open) {
        const std::lock_guard lock(host_mutex_);
        host_events_.push_back(open);
        host_changed_.notify_all();
      };
      port_ = std::make_unique<PtyPort>(io_.get_executor(), registry_, std::move(options));
      auto opened = port_->open();
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
    });
  }

  // Waits until the port has been told of `count` host opens and closes in
  // all; returns them in order (true: opened).
  std::vector<bool> host_events(std::size_t count) {
    std::unique_lock lock(host_mutex_);
    host_changed_.wait_for(lock, std::chrono::seconds(5),
                           [&] { return host_events_.size() >= count; });
    return host_events_;
  }

  fs::path link() const { return state_dir_ / "ttyUSB2"; }
  fs::path device() {
    return on_io([this] { return port_->device_path(); });
  }

  fs::path state_dir_;
  Registry registry_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<PtyPort> port_;
  std::mutex host_mutex_;
  std::condition_variable host_changed_;
  std::vector<bool> host_events_;
  std::thread thread_;
};

TEST_F(PtyPortTest, HostTalksAtThroughTheSymlink) {
  start(PortStyle::kUsb);
  ASSERT_TRUE(fs::is_symlink(link()));
  EXPECT_EQ(fs::read_symlink(link()), device());
  EXPECT_TRUE(device().string().starts_with("/dev/pts/"));
  HostSerial host(link().string());
  ASSERT_TRUE(host.is_open());
  ASSERT_TRUE(host.write("AT\r"));
  EXPECT_EQ(host.read_until("OK\r\n"), "AT\r\r\nOK\r\n");
  ASSERT_TRUE(host.write("ATE0\r\n"));
  EXPECT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
  ASSERT_TRUE(host.write("AT+NOPE\r"));
  EXPECT_EQ(host.read_until("ERROR\r\n"), "\r\nERROR\r\n");
}

// The kernel gives a user 128 inotify instances by default
// (fs.inotify.max_user_instances); a fleet of 100 modules has 200 ports. All
// ports of an io context share one instance: more ports than the limit all
// open, and each still sees its own host arrive and leave.
TEST_F(PtyPortTest, MorePortsThanTheUsersInotifyInstancesEachSeeTheirHost) {
  std::size_t limit = 128;
  if (std::FILE* f = std::fopen("/proc/sys/fs/inotify/max_user_instances", "r")) {
    if (std::fscanf(f, "%zu", &limit) != 1) limit = 128;
    std::fclose(f);
  }
  if (limit > 1024) GTEST_SKIP() << "max_user_instances is " << limit << ": too many PTYs to test";
  const std::size_t count = limit + 8;
  std::vector<std::unique_ptr<PtyPort>> ports;
  std::vector<int> opened(count, 0), closed(count, 0);
  std::mutex events_mutex;
  std::condition_variable events_changed;
  on_io([&] {
    for (std::size_t i = 0; i < count; ++i) {
      PtyPortOptions options{.link = state_dir_ / ("port" + std::to_string(i)),
                             .style = PortStyle::kUsb};
      options.host_changed = [&, i](bool open) {
        const std::lock_guard lock(events_mutex);
        ++(open ? opened : closed)[i];
        events_changed.notify_all();
      };
      ports.push_back(std::make_unique<PtyPort>(io_.get_executor(), registry_, std::move(options)));
      auto up = ports.back()->open();
      ASSERT_TRUE(up.has_value()) << "port " << i << ": " << up.error().message;
    }
  });
  ASSERT_EQ(ports.size(), count);
  for (const std::size_t i : {std::size_t{0}, count / 2, count - 1}) {
    {
      HostSerial host((state_dir_ / ("port" + std::to_string(i))).string());
      ASSERT_TRUE(host.write("AT\r"));
      EXPECT_EQ(host.read_until("OK\r\n"), "AT\r\r\nOK\r\n") << "port " << i;
    }
    std::unique_lock lock(events_mutex);
    EXPECT_TRUE(events_changed.wait_for(lock, std::chrono::seconds(5),
                                        [&] { return opened[i] == 1 && closed[i] == 1; }))
        << "port " << i << " saw " << opened[i] << " opens, " << closed[i] << " closes";
  }
  on_io([&] { ports.clear(); });
}

TEST_F(PtyPortTest, HostMayCloseAndReopen) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_TRUE(host.write("ATE0\r"));
    EXPECT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
  }
  HostSerial again(link().string());
  ASSERT_TRUE(again.write("AT\r"));
  EXPECT_EQ(again.read_until("OK\r\n"), "\r\nOK\r\n");
}

// A host that closes the port takes its unread answers along: the next
// opener gets only its own. The closing host's command still ran (ATE0: no
// echo for the next host).
TEST_F(PtyPortTest, TheNextHostGetsNoAnswerMeantForTheLast) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_TRUE(host.write("ATE0\r"));
  }
  EXPECT_EQ(host_events(2), (std::vector<bool>{true, false}));
  HostSerial next(link().string());
  ASSERT_TRUE(next.write("AT\r"));
  EXPECT_EQ(next.read_until("OK\r\n"), "\r\nOK\r\n");
}

// The same while the closing host's command still runs: its answer (here a
// download's data and result) is not the next opener's either.
TEST_F(PtyPortTest, TheAnswerOfACommandStillRunningGoesWithItsHost) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_TRUE(host.write("ATE0\r"));
    ASSERT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
    ASSERT_TRUE(host.write("AT+QFDWL=\"f\",300000\r"));
    ASSERT_TRUE(host.read_past("\r\nCONNECT\r\nd").starts_with("\r\nCONNECT\r\nd"));
  }
  EXPECT_EQ(host_events(2), (std::vector<bool>{true, false}));
  HostSerial next(link().string());
  ASSERT_TRUE(next.write("AT\r"));
  EXPECT_EQ(next.read_until("OK\r\n", std::chrono::seconds(20)), "\r\nOK\r\n");
}

// A host that closes the port while it is online (a DTR drop under AT&D1)
// leaves the link suspended, not lost, and the next host in command state.
TEST_F(PtyPortTest, AHostLeavingOnlineModeLeavesTheLinkSuspended) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_NO_FATAL_FAILURE(echo_off_and_connect(host, "AT+DIAL"));
  }
  EXPECT_EQ(host_events(2), (std::vector<bool>{true, false}));
  EXPECT_TRUE(on_io([this] { return link_.linked() && !link_.online(); }));
  HostSerial next(link().string());
  ASSERT_TRUE(next.write("AT\r"));
  EXPECT_EQ(next.read_until("OK\r\n"), "\r\nOK\r\n") << "a command, not data";
  ASSERT_TRUE(next.write("ATO\r"));
  EXPECT_EQ(next.read_until("CONNECT\r\n"), "\r\nCONNECT\r\n");
  on_io([this] { link_.hang_up(); });
}

// A host that closes the port in the middle of an upload: the next host's
// command is a command, not the rest of the data.
TEST_F(PtyPortTest, AHostLeavingMidUploadLeavesNoDataModeBehind) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_NO_FATAL_FAILURE(echo_off_and_connect(host, "AT+QFUPL=\"f\",100"));
  }
  EXPECT_EQ(host_events(2), (std::vector<bool>{true, false}));
  HostSerial next(link().string());
  ASSERT_TRUE(next.write("AT\r"));
  EXPECT_EQ(next.read_until("OK\r\n"), "\r\nOK\r\n");
}

// A host that sends an upload's last bytes and closes at once: they are
// data (the upload completes), not commands after a DTR drop — however the
// port hears of the close and the bytes. Its result is not the next host's.
TEST_F(PtyPortTest, AnUploadsLastBytesSentJustBeforeClosingAreData) {
  start(PortStyle::kUsb);
  {
    HostSerial host(link().string());
    ASSERT_NO_FATAL_FAILURE(echo_off_and_connect(host, "AT+QFUPL=\"f\",100"));
    const IoHold hold(*this);
    ASSERT_TRUE(host.write(std::string(100, 'x')));
    host.close();
  }
  EXPECT_EQ(host_events(2), (std::vector<bool>{true, false}));
  const auto upload = on_io([this] { return last_upload_; });
  ASSERT_TRUE(upload.has_value());
  EXPECT_EQ(upload->first, UploadEnd::kComplete);
  EXPECT_EQ(upload->second, 100U);
  HostSerial next(link().string());
  ASSERT_TRUE(next.write("AT\r"));
  EXPECT_EQ(next.read_until("OK\r\n"), "\r\nOK\r\n");
}

// A host that closes the port and another that opens it before the port
// looks (a script's `echo > PORT; cat PORT`, a driver reopening): still a
// departure — the online link is suspended, the next host in command state.
TEST_F(PtyPortTest, AHostReplacedBeforeThePortLooksStillDeparted) {
  start(PortStyle::kUsb);
  auto first = std::make_unique<HostSerial>(link().string());
  ASSERT_NO_FATAL_FAILURE(echo_off_and_connect(*first, "AT+DIAL"));
  std::optional<HostSerial> next;
  {
    const IoHold hold(*this);
    first.reset();
    next.emplace(link().string());
  }
  EXPECT_EQ(host_events(3), (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(on_io([this] { return link_.linked() && !link_.online(); }));
  ASSERT_TRUE(next->write("AT\r"));
  EXPECT_EQ(next->read_until("OK\r\n"), "\r\nOK\r\n") << "a command, not data";
  on_io([this] { link_.hang_up(); });
}

// What the module says while no host has the port open (RDY at boot) waits
// for the first opener.
TEST_F(PtyPortTest, OutputWhileNoHostIsOpenWaitsForTheFirst) {
  start(PortStyle::kUsb);
  on_io([this] { port_->engine().queue_urc("RDY"); });
  HostSerial host(link().string());
  EXPECT_EQ(host.read_until("RDY\r\n"), "\r\nRDY\r\n");
}

// `cat PORT &` then `echo AT > PORT`: the writer's close is not the end of
// the port while the reader keeps it open; the reader gets the answer.
TEST_F(PtyPortTest, AWriterClosingLeavesTheReaderItsAnswers) {
  start(PortStyle::kUsb);
  HostSerial reader(link().string());
  EXPECT_EQ(host_events(1), (std::vector<bool>{true}));
  {
    HostSerial writer(link().string());
    ASSERT_TRUE(writer.write("AT\r"));
  }
  EXPECT_EQ(reader.read_until("OK\r\n"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(host_events(1).size(), 1U) << "the port stayed open throughout";
}

TEST_F(PtyPortTest, UrcReachesTheHost) {
  start(PortStyle::kUsb);
  HostSerial host(link().string());
  on_io([this] { port_->engine().queue_urc("+QIND: PB DONE"); });
  EXPECT_EQ(host.read_until("DONE\r\n"), "\r\n+QIND: PB DONE\r\n");
}

TEST_F(PtyPortTest, UploadThroughThePty) {
  start(PortStyle::kUsb);
  HostSerial host(link().string());
  ASSERT_TRUE(host.write("ATE0\r"));
  host.read_until("OK\r\n");
  ASSERT_TRUE(host.write("AT+QFUPL=\"f\",5000\r"));
  EXPECT_EQ(host.read_until("CONNECT\r\n"), "\r\nCONNECT\r\n");
  ASSERT_TRUE(host.write(std::string(5000, '\r') + std::string(100, '\0')));
  EXPECT_EQ(host.read_until("OK\r\n"), "\r\n+QFUPL: 5000,0\r\n\r\nOK\r\n");
  ASSERT_TRUE(host.write("AT\r"));
  EXPECT_EQ(host.read_until("OK\r\n"), "\r\nOK\r\n");
}

TEST_F(PtyPortTest, UsbResetMakesTheHostReopen) {
  start(PortStyle::kUsb);
  HostSerial old_host(link().string());
  ASSERT_TRUE(old_host.write("AT\r"));
  ASSERT_EQ(old_host.read_until("OK\r\n"), "AT\r\r\nOK\r\n");
  const fs::path old_device = device();

  on_io([this] { port_->disconnect(); });
  EXPECT_FALSE(fs::exists(fs::symlink_status(link()))) << "the port vanished";
  // The old fd is dead: reads see EOF or EIO, writes fail.
  pollfd ready{old_host.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 2000), 1);
  char byte = 0;
  const ssize_t got = ::read(old_host.fd(), &byte, 1);
  EXPECT_TRUE(got == 0 || (got < 0 && errno == EIO)) << got;
  EXPECT_FALSE(old_host.write("AT\r"));

  on_io([this] {
    auto reconnected = port_->reconnect();
    ASSERT_TRUE(reconnected.has_value()) << reconnected.error().message;
  });
  ASSERT_TRUE(fs::is_symlink(link()));
  const fs::path new_device = device();
  EXPECT_EQ(fs::read_symlink(link()), new_device);
  EXPECT_NE(new_device, old_device) << "a new tty while the old one is still held";
  HostSerial new_host(link().string());
  ASSERT_TRUE(new_host.is_open());
  ASSERT_TRUE(new_host.write("AT\r"));
  EXPECT_EQ(new_host.read_until("OK\r\n"), "AT\r\r\nOK\r\n") << "echo is back on after reset";
  EXPECT_FALSE(old_host.write("AT\r")) << "the old fd stays dead";
}

TEST_F(PtyPortTest, UartPortStaysOpenAcrossReset) {
  start(PortStyle::kUart);
  HostSerial host(link().string());
  ASSERT_TRUE(host.write("ATE0\r"));
  ASSERT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
  const fs::path before = device();

  on_io([this] { port_->disconnect(); });
  EXPECT_EQ(fs::read_symlink(link()), before) << "a UART port never moves";
  ASSERT_TRUE(host.write("AT\r"));
  EXPECT_EQ(host.read_for(milliseconds(200)), "") << "the module is away: no answer";

  on_io([this] { ASSERT_TRUE(port_->reconnect().has_value()); });
  on_io([this] { port_->engine().queue_urc("RDY"); });
  EXPECT_EQ(host.read_until("RDY\r\n"), "\r\nRDY\r\n") << "bytes sent while away were dropped";
  ASSERT_TRUE(host.write("AT\r"));
  EXPECT_EQ(host.read_until("OK\r\n"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(device(), before);
}

TEST_F(PtyPortTest, HostThatStopsReadingNeverBlocksTheEngine) {
  start(PortStyle::kUsb);
  HostSerial host(link().string());
  ASSERT_TRUE(host.write("ATE0\r"));
  ASSERT_EQ(host.read_until("OK\r\n"), "ATE0\r\r\nOK\r\n");
  // 1 MiB towards a host that is not reading: far more than the PTY and the
  // engine's bound hold.
  constexpr std::size_t kSize = 1 << 20;
  ASSERT_TRUE(host.write("AT+QFDWL=\"f\"," + std::to_string(kSize) + "\r"));
  // Wait until the download has backed up into the engine (the kernel's
  // buffers are full and the host reads nothing).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (on_io([this] { return port_->engine().pending_output().size(); }) <
             EngineConfig{}.output_bound / 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  // The io thread still serves other work at once, and the engine holds no
  // more than its bound.
  const auto started = std::chrono::steady_clock::now();
  const std::size_t backlog = on_io([this] { return port_->engine().pending_output().size(); });
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(500));
  EXPECT_LE(backlog, EngineConfig{}.output_bound);
  EXPECT_GE(backlog, EngineConfig{}.output_bound / 2) << "the download backed up into the engine";
  on_io([this] { port_->engine().queue_urc("+LATE"); });
  // The host reads again: all the data, the result, then the held URC.
  const std::string got = host.read_until("+LATE\r\n", std::chrono::seconds(20));
  const std::string head = "\r\nCONNECT\r\n";
  const std::string tail = "\r\n+QFDWL: done\r\n\r\nOK\r\n\r\n+LATE\r\n";
  ASSERT_EQ(got.size(), head.size() + kSize + tail.size());
  EXPECT_EQ(got.substr(0, head.size()), head);
  EXPECT_EQ(got.find_first_not_of('d', head.size()), head.size() + kSize);
  EXPECT_EQ(got.substr(head.size() + kSize), tail);
}

TEST_F(PtyPortTest, DestroyingThePortRemovesTheSymlink) {
  start(PortStyle::kUsb);
  ASSERT_TRUE(fs::is_symlink(link()));
  on_io([this] { port_.reset(); });
  EXPECT_FALSE(fs::exists(fs::symlink_status(link())));
}

// A link left by a process that died (kill -9) names a PTY that is not ours
// and that the kernel may have given to another module: a USB port that
// opens disconnected removes it, so no host finds it before the port
// appears; `linked` then reports the link the port made.
TEST_F(PtyPortTest, AUsbPortRemovesALinkAPreviousProcessLeft) {
  fs::create_symlink("/dev/pts/0", link());
  std::vector<fs::path> reported;
  on_io([this, &reported] {
    port_ = std::make_unique<PtyPort>(
        io_.get_executor(), registry_,
        PtyPortOptions{.link = link(),
                       .start_disconnected = true,
                       .linked = [&reported](const fs::path& l) { reported.push_back(l); }});
    ASSERT_TRUE(port_->open().has_value());
  });
  EXPECT_FALSE(fs::exists(fs::symlink_status(link())));
  EXPECT_TRUE(reported.empty());
  on_io([this] { ASSERT_TRUE(port_->reconnect().has_value()); });
  ASSERT_TRUE(fs::is_symlink(link()));
  EXPECT_EQ(fs::read_symlink(link()), device());
  EXPECT_EQ(reported, std::vector<fs::path>{link()});
}

TEST_F(PtyPortTest, OpenFailsCleanlyWhenTheDirectoryIsMissing) {
  on_io([this] {
    PtyPort port(io_.get_executor(), registry_,
                 PtyPortOptions{.link = state_dir_ / "missing" / "ttyUSB2"});
    auto opened = port.open();
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code, ErrorCode::kSystem);
  });
}

}  // namespace
}  // namespace vmodem::at::testing
