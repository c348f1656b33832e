// The control server over a real Unix socket: greeting, commands, errors,
// bad input, several clients, the socket file.
#include <fstream>

#include <sys/stat.h>

#include "control/schema.hpp"
#include "server_fixture.hpp"

namespace vmodem::testing {
namespace {

TEST_F(ServerTest, GreetsAndAnswersWithTheId) {
  LineClient c(socket());
  ASSERT_TRUE(c.connected());
  const json greeting = c.greeting();
  EXPECT_EQ(greeting["vmodem"]["version"], "0.1.0");
  EXPECT_EQ(greeting["vmodem"]["model"], "BG95-M3");
  EXPECT_EQ(greeting["capabilities"], json::array());
  const json reply = c.request({{"execute", "status"}, {"id", {{"seq", 1}}}});
  EXPECT_EQ(reply["return"]["power"], "app_rdy");
  EXPECT_EQ(reply["id"], json({{"seq", 1}}));
  EXPECT_FALSE(c.request({{"execute", "stats"}}).contains("id")) << "no id in, no id out";
}

TEST_F(ServerTest, SocketIsPrivateAndRemovedOnStop) {
  struct stat st {};
  ASSERT_EQ(::lstat(socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename(), "control.sock") << "no temporary left behind";
  stop_server();
  EXPECT_FALSE(std::filesystem::exists(socket()));
}

TEST_F(ServerTest, RefusesALiveSocketAndNonSockets) {
  boost::asio::io_context other;
  FakeTarget target;
  auto second = sim::ControlServer::start(other.get_executor(), target, {.socket_path = socket()});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("already running"), std::string::npos) << second.error();
  std::ofstream(dir_ / "file") << "x";
  auto on_file =
      sim::ControlServer::start(other.get_executor(), target, {.socket_path = dir_ / "file"});
  ASSERT_FALSE(on_file);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "file"));
  EXPECT_FALSE(sim::ControlServer::start(other.get_executor(), target,
                                         {.socket_path = "/" + std::string(200, 'x')}));
}

TEST(ServerStale, ReplacesAStaleSocketFromAnEarlierRun) {
  TempDir dir;
  const auto path = dir / "control.sock";
  {
    // A socket file nobody listens on: what a killed daemon leaves.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  boost::asio::io_context io;
  FakeTarget target;
  target.executor_thread = std::this_thread::get_id();
  auto server = sim::ControlServer::start(io.get_executor(), target, {.socket_path = path});
  ASSERT_TRUE(server) << server.error();
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&io] { io.run(); });
  LineClient c(path);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.greeting().contains("vmodem"));
  boost::asio::post(io, [&server] { (*server)->stop(); });
  work.reset();
  thread.join();
}

TEST_F(ServerTest, QueryCommandsListsTheSchema) {
  auto c = client();
  const json reply = c->execute("query-commands");
  ASSERT_TRUE(reply["return"].is_array());
  EXPECT_EQ(reply["return"], sim::control::describe_commands());
  for (const auto& command : reply["return"]) {
    EXPECT_TRUE(command["arguments"].is_array()) << command;
    EXPECT_TRUE(command.contains("returns"));
    EXPECT_TRUE(command.contains("errors"));
  }
}

TEST_F(ServerTest, EveryTargetCommandReachesTheModule) {
  auto c = client();
  EXPECT_TRUE(c->execute("power-on").contains("return"));
  EXPECT_TRUE(c->execute("power-off").contains("return"));
  EXPECT_TRUE(c->execute("reset").contains("return"));
  EXPECT_EQ(c->execute("stats")["return"]["counters"]["operations"], 42);
  EXPECT_EQ(c->execute("snapshot-save", {{"path", "/tmp/a.img"}})["return"]["path"], "/tmp/a.img");
  EXPECT_EQ(c->execute("snapshot-load", {{"path", "/tmp/b.img"}})["return"]["path"], "/tmp/b.img");
  EXPECT_EQ(c->execute("backup-info", {{"file-system", "modem"}})["return"]["file_system"],
            "modem");
  EXPECT_TRUE(
      c->execute("power-cut",
                 {{"partition", "usrfs"}, {"op", {"erase"}}, {"nth", 2}, {"mode", "torn_unstable"}})
          .contains("return"));
  const auto cut = target_.last_power_cut();
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->when, sim::PowerCutRequest::When::partition_operation);
  EXPECT_EQ(cut->op_kinds, 0b100);
  EXPECT_EQ(cut->operations, 2U);
  EXPECT_EQ(cut->mode, nand::CutMode::torn_unstable);
  EXPECT_TRUE(c->execute("inject", {{"kind", "erase-partition"}, {"partition", "fota"}})
                  .contains("return"));
  ASSERT_TRUE(target_.last_inject());
  EXPECT_EQ(target_.last_inject()->kind, sim::InjectRequest::Kind::erase_partition);
  EXPECT_EQ(target_.calls(),
            (std::vector<std::string>{"power-on", "power-off", "reset", "stats", "snapshot-save",
                                      "snapshot-load", "backup-info", "power-cut", "inject"}));
}

TEST_F(ServerTest, SimRemoveAndInsertReachTheModuleWithTheirReport) {
  auto c = client();
  const json removed = c->execute("sim-remove");
  EXPECT_EQ(removed["return"]["sim"], "absent") << removed.dump();
  EXPECT_EQ(removed["return"]["changed"], true);
  const json inserted = c->execute("sim-insert", {{"fresh", true}});
  EXPECT_EQ(inserted["return"]["sim"], "ready") << inserted.dump();
  EXPECT_EQ(target_.last_sim_fresh(), true);
  (void)c->execute("sim-insert");
  EXPECT_EQ(target_.last_sim_fresh(), false) << "fresh defaults to false";
  EXPECT_EQ(c->execute("sim-insert", {{"fresh", "yes"}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("sim-remove", {{"slot", 2}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(target_.calls(), (std::vector<std::string>{"sim-remove", "sim-insert", "sim-insert"}));
}

TEST_F(ServerTest, SmsDeliverAndOutboxReachTheModule) {
  auto c = client();
  const json stored = c->execute("sms-deliver", {{"from", "+4917012345"}, {"text", "hi"}});
  EXPECT_EQ(stored["return"]["storage"], "SM") << stored.dump();
  EXPECT_EQ(stored["return"]["index"], 0);
  EXPECT_EQ(c->execute("sms-deliver", {{"text", 5}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("sms-deliver", {{"to", "+1"}})["error"]["class"], "InvalidParameter");
  const json full = c->execute("sms-deliver", {{"from", "full"}, {"text", "x"}});
  EXPECT_EQ(full["error"]["desc"], "SM is full") << "the module's reason, as it gave it";
  const json outbox = c->execute("sms-outbox", {{"clear", true}});
  EXPECT_EQ(outbox["return"]["messages"][0]["to"], "+123") << outbox.dump();
  EXPECT_EQ(outbox["return"]["messages"][0]["timestamp"]["microseconds"], 1);
  EXPECT_EQ(target_.calls(), (std::vector<std::string>{"sms-deliver", "sms-outbox --clear"}));
}

TEST_F(ServerTest, NetworkRequestsAreCheckedBeforeTheModule) {
  auto c = client();
  EXPECT_EQ(c->execute("network", {{"udp-loss", 101}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("network", {{"udp-loss", -1}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("network", {{"latency-ms", "slow"}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("network", {{"detach", true}, {"attach", true}})["error"]["class"],
            "InvalidParameter");
  EXPECT_TRUE(target_.calls().empty());
  const json shown = c->execute("network");
  EXPECT_EQ(shown["return"]["coverage"], true) << shown.dump();
  EXPECT_EQ(target_.calls(), std::vector<std::string>{"network"});
}

TEST_F(ServerTest, InvalidRequestsNeverReachTheModule) {
  auto c = client();
  auto error =
      c->request({{"execute", "power-cut"}, {"arguments", {{"window", {5, 1}}}}, {"id", 9}});
  EXPECT_EQ(error["error"]["class"], "InvalidParameter");
  EXPECT_NE(error["error"]["desc"].get<std::string>().find("'window'"), std::string::npos);
  EXPECT_EQ(error["id"], 9);
  EXPECT_EQ(c->execute("inject", {{"kind", "bad-block"}})["error"]["class"], "InvalidParameter");
  EXPECT_EQ(c->execute("nope")["error"]["class"], "CommandNotFound");
  EXPECT_EQ(c->execute("status", {{"verbose", true}})["error"]["class"], "InvalidParameter");
  EXPECT_TRUE(target_.calls().empty());
}

TEST_F(ServerTest, ModuleErrorsKeepTheirClass) {
  auto c = client();
  target_.fail_next("power-on", {"DeviceBusy", "module is booting"});
  const json reply = c->execute("power-on");
  EXPECT_EQ(reply["error"]["class"], "DeviceBusy");
  EXPECT_EQ(reply["error"]["desc"], "module is booting");
  target_.fail_next("reset", {"", "no class given"});
  EXPECT_EQ(c->execute("reset")["error"]["class"], "GenericError");
  target_.fail_next("stats", {"", "boom"}, /*throws=*/true);
  const json thrown = c->execute("stats");
  EXPECT_EQ(thrown["error"]["class"], "GenericError");
  EXPECT_NE(thrown["error"]["desc"].get<std::string>().find("boom"), std::string::npos);
  EXPECT_EQ(c->execute("status")["return"]["power"], "app_rdy") << "still serving";
}

TEST_F(ServerTest, GarbageGetsAnErrorAndTheConnectionStaysUsable) {
  auto c = client();
  const std::vector<std::string> garbage = {
      "not json",
      "[1,2,3]",
      "\"status\"",
      std::string("{\"execute\":\"sta") + '\0' + "tus\"}",
      "\xff\xfe\x00\x01\x80garbage",
      "{\"execute\":\"status\"",
      "{\"execute\":\"\xc3\x28\"}",
      "}}}}]]]",
      std::string(100, '[') + std::string(100, ']'),
  };
  for (const auto& line : garbage) {
    c->send_raw(line + "\n");
    const json reply = c->reply();
    ASSERT_TRUE(reply.is_object()) << "no parseable reply to: " << line;
    EXPECT_EQ(reply["error"]["class"], "GenericError") << line;
  }
  c->send_raw("\n\r\n   \n");  // blank lines: no reply
  EXPECT_EQ(c->execute("status")["return"]["power"], "app_rdy");
}

TEST_F(ServerTest, OverlongLineIsDiscardedUpToTheNextNewline) {
  auto c = client();
  const std::string big(3 << 20, 'x');  // 3 MiB, no newline yet
  std::thread writer([&] { c->send_raw(big + "\n{\"execute\":\"status\",\"id\":1}\n"); });
  const json error = c->reply();
  EXPECT_EQ(error["error"]["class"], "GenericError");
  EXPECT_NE(error["error"]["desc"].get<std::string>().find("longer than"), std::string::npos);
  const json after = c->reply();
  writer.join();
  EXPECT_EQ(after["id"], 1);
  EXPECT_EQ(after["return"]["power"], "app_rdy");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto c = client();
  std::string batch;
  for (int i = 0; i < 2000; ++i)
    batch += json({{"execute", "status"}, {"id", i}}).dump() + "\n";
  std::thread writer([&] { c->send_raw(batch); });  // replies pile up until we read
  for (int i = 0; i < 2000; ++i) {
    const json reply = c->reply();
    ASSERT_EQ(reply["id"], i);
  }
  writer.join();
}

// A snapshot's file I/O finishes later: its connection waits for that reply
// (replies stay in order), every other connection is served meanwhile.
TEST_F(ServerTest, ALongRequestHoldsOnlyItsOwnConnection) {
  target_.defer_snapshots();
  auto slow = client();
  slow->send_raw(
      json({{"execute", "snapshot-save"}, {"arguments", {{"path", "/tmp/x.img"}}}, {"id", "save"}})
          .dump() +
      "\n" + json({{"execute", "status"}, {"id", "after"}}).dump() + "\n");
  ASSERT_TRUE(eventually([&] { return target_.deferred_snapshots() == 1; }));
  auto other = client();
  EXPECT_EQ(other->execute("status")["return"]["power"], "app_rdy");
  EXPECT_FALSE(slow->line(200)) << "nothing for the waiting connection yet";
  run_on_executor([this] {
    target_.complete_snapshot();
    return 0;
  });
  const json first = slow->reply();
  EXPECT_EQ(first["id"], "save");
  EXPECT_EQ(first["return"], json({{"path", "/tmp/x.img"}, {"bytes", 4096}}));
  EXPECT_EQ(slow->reply()["id"], "after") << "the next request ran after the reply";
}

TEST_F(ServerTest, ManyClientsAtOnce) {
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      LineClient c(socket());
      if (!c.greeting().contains("vmodem")) return;
      for (int i = 0; i < 100; ++i) {
        const json reply = c.request({{"execute", "status"}, {"id", t * 1000 + i}});
        if (reply["id"] == t * 1000 + i && reply.contains("return")) ++good;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(good.load(), 800);
  EXPECT_TRUE(eventually([&] { return client_count() == 0; }));
}

TEST_F(ServerTest, QuitClosesOnlyThisConnection) {
  auto a = client();
  auto b = client();
  EXPECT_EQ(a->execute("quit")["return"], json::object());
  EXPECT_FALSE(a->line(2000));
  EXPECT_TRUE(a->eof());
  EXPECT_TRUE(b->execute("status").contains("return"));
}

TEST_F(ServerTest, TooManyClientsGetAnErrorAndAreClosed) {
  stop_server();
  io_.restart();
  work_.emplace(io_.get_executor());
  start_server({.max_clients = 2});
  auto a = client();
  auto b = client();
  LineClient third(socket());
  const json refused = third.message();
  EXPECT_EQ(refused["error"]["class"], "GenericError");
  EXPECT_FALSE(third.line(2000));
  EXPECT_TRUE(a->execute("status").contains("return"));
}

}  // namespace
}  // namespace vmodem::testing
