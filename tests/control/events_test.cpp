// Events: only subscribers get them, filters, unsubscribe, and the bound on
// what a client that stops reading can make the server hold.
#include "server_fixture.hpp"

namespace vmodem::testing {
namespace {

nlohmann::json power_event(int n) {
  return {{"event", "POWER_STATE"}, {"data", {{"power", "running"}, {"n", n}}}};
}

TEST_F(ServerTest, OnlySubscribersGetEvents) {
  auto listener = client();
  auto bystander = client();
  const json subscribed = listener->execute("subscribe");
  EXPECT_EQ(subscribed["return"]["events"], "all");
  ASSERT_EQ(target_.listener_count(), 1U);
  target_.emit(power_event(1));
  const json event = listener->message();
  EXPECT_EQ(event["event"], "POWER_STATE");
  EXPECT_EQ(event["data"]["n"], 1);
  EXPECT_TRUE(event["timestamp"]["seconds"].is_number_integer()) << "the server stamps events";
  EXPECT_FALSE(bystander->line(300)) << "no events without subscribe";
}

TEST_F(ServerTest, TheModulesTimestampIsKept) {
  auto c = client();
  c->execute("subscribe");
  target_.emit({{"event", "URC"},
                {"data", {{"text", "+QIND: SMS DONE"}}},
                {"timestamp", {{"seconds", 5}, {"microseconds", 6}}}});
  EXPECT_EQ(c->message()["timestamp"]["seconds"], 5);
}

TEST_F(ServerTest, FilterAndUnsubscribe) {
  auto c = client();
  EXPECT_EQ(c->execute("subscribe", {{"events", {"URC"}}})["return"]["events"], json({"URC"}));
  target_.emit(power_event(1));
  target_.emit({{"event", "URC"}, {"data", {{"text", "RDY"}}}});
  EXPECT_EQ(c->message()["data"]["text"], "RDY") << "POWER_STATE was filtered out";
  c->execute("subscribe");  // again: replaces the filter, same subscription
  EXPECT_EQ(target_.listener_count(), 1U);
  target_.emit(power_event(2));
  EXPECT_EQ(c->message()["data"]["n"], 2);
  EXPECT_EQ(c->execute("unsubscribe")["return"]["dropped"], 0);
  EXPECT_EQ(target_.listener_count(), 0U);
  target_.emit(power_event(3));
  EXPECT_FALSE(c->line(300));
}

TEST_F(ServerTest, DisconnectUnsubscribes) {
  {
    auto c = client();
    c->execute("subscribe");
    EXPECT_EQ(target_.listener_count(), 1U);
  }
  EXPECT_TRUE(eventually([&] { return target_.listener_count() == 0; }));
  target_.emit(power_event(1));  // a late event for a gone client is harmless
}

TEST_F(ServerTest, EventsFromManyThreadsWhileRequestsFlow) {
  auto c = client();
  c->execute("subscribe");
  std::vector<std::thread> emitters;
  emitters.reserve(4);
  for (int t = 0; t < 4; ++t) {
    emitters.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i)
        target_.emit(power_event(t * 100 + i));
    });
  }
  int events = 0;
  int replies = 0;
  for (int i = 0; i < 50; ++i)
    c->send_raw(json({{"execute", "status"}, {"id", i}}).dump() + "\n");
  for (auto& thread : emitters)
    thread.join();
  while (events < 400 || replies < 50) {
    const json m = c->message();
    ASSERT_TRUE(m.is_object()) << events << " events, " << replies << " replies";
    if (m.contains("event")) {
      ++events;
    } else {
      EXPECT_EQ(m["id"], replies++) << "replies stay in order between events";
    }
  }
}

TEST_F(ServerTest, ASlowReaderLosesTheOldestEventsAndIsTold) {
  stop_server();
  io_.restart();
  work_.emplace(io_.get_executor());
  start_server({.max_queued_events = 16});
  auto c = client();
  c->execute("subscribe");
  // Big events fill the socket buffers quickly; the client reads nothing yet.
  const std::string padding(4096, 'p');
  constexpr int kEvents = 3000;  // ~12 MiB: far beyond any socket buffer
  for (int i = 0; i < kEvents; ++i)
    target_.emit({{"event", "URC"}, {"data", {{"n", i}, {"pad", padding}}}});
  target_.emit({{"event", "LAST"}});
  int received = 0;
  std::uint64_t reported = 0;
  int last_n = -1;
  for (;;) {
    // Generous: the server works through 3000 posted events before a write
    // completes (slow under TSan on a loaded machine); it is a wait for a
    // message, not a delay.
    const json m = c->message(60000);
    ASSERT_TRUE(m.is_object()) << "after " << received << " events";
    if (m["event"] == "LAST") break;
    if (m["event"] == "EVENTS_DROPPED") {
      reported += m["data"]["count"].get<std::uint64_t>();
      continue;
    }
    EXPECT_GT(m["data"]["n"].get<int>(), last_n) << "order is kept";
    last_n = m["data"]["n"];
    ++received;
  }
  EXPECT_GT(reported, 0U);
  EXPECT_EQ(received + static_cast<int>(reported), kEvents) << "every event arrived or was counted";
  // What got through is what the socket buffered plus the 16-event queue.
  EXPECT_LT(received, 1000);
  EXPECT_EQ(c->execute("unsubscribe")["return"]["dropped"], reported);
}

}  // namespace
}  // namespace vmodem::testing
