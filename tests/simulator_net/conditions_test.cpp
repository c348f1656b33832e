// The module's radio link as the control socket sets it (Module::network,
// `vmodem ctl network`): latency and a bandwidth cap on every socket, UDP
// loss drawn from the seed, and coverage lost and regained — against real
// servers on loopback through the module's real PTY. Timings are asserted
// only from below: the link must hold the data at least that long.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "socket_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using Clock = std::chrono::steady_clock;

class LinkConditions : public SocketFixture {
 protected:
  NetworkReport network(NetworkRequest request) {
    auto report = m_.on_io([&] { return m_.module().network(request); });
    EXPECT_TRUE(report.has_value());
    return report.value_or(NetworkReport{});
  }
  // Sends `data` on connectID 0 and returns how long until +QIURC: "recv".
  std::chrono::milliseconds echo_time(const std::string& data) {
    host().write("AT+QISEND=0," + std::to_string(data.size()) + "\r");
    host().read_until("> ");
    const auto start = Clock::now();
    host().write(data);
    host().read_until("SEND OK\r\n");
    const auto urc = host().read_until("+QIURC: \"recv\",0\r\n", 10000ms);
    EXPECT_NE(urc.find("+QIURC: \"recv\",0"), std::string::npos) << urc;
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    (void)host().command("AT+QIRD=0,1500");
    return elapsed;
  }
};

TEST_F(LinkConditions, LatencyHoldsEachDirection) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  const auto report = network({.latency_ms = 150});
  EXPECT_EQ(report.latency_ms, 150U);
  EXPECT_GE(echo_time("ping"), 300ms) << "150 ms out and 150 ms back";
  EXPECT_EQ(echo.received(), "ping");
}

TEST_F(LinkConditions, ABandwidthCapPacesTheBytes) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  network({.bandwidth_kbps = 16});
  // 1000 bytes at 16 kbit/s: 500 ms each way.
  EXPECT_GE(echo_time(std::string(1000, 'b')), 1000ms);
  network({.clear = true});
  EXPECT_EQ(network({}).bandwidth_kbps, 0U) << "clear gives a perfect link back";
}

TEST_F(LinkConditions, UdpLossDropsDatagramsAsTheSeedDraws) {
  LoopbackServer echo(LoopbackServer::Kind::udp_echo);
  ASSERT_NE(open("1,2,\"UDP\",\"127.0.0.1\"," + std::to_string(echo.port()) + ",0,1")
                .find("+QIOPEN: 2,0"),
            std::string::npos);
  network({.udp_loss_percent = 100});
  EXPECT_EQ(host().command("AT+QISENDEX=2,\"6c6f7374\""), "\r\nSEND OK\r\n")
      << "the host cannot tell a datagram was lost";
  network({.udp_loss_percent = 0});
  EXPECT_EQ(host().command("AT+QISENDEX=2,\"6f6b\""), "\r\nSEND OK\r\n");
  EXPECT_NE(host().read_until("ok\r\n").find("+QIURC: \"recv\",2,2\r\nok"), std::string::npos);
  EXPECT_EQ(echo.received(), "ok") << "the first datagram never left the module";
}

TEST_F(LinkConditions, PingsTakeTheRoundTripAndAreLostWithTheDatagrams) {
  network({.latency_ms = 40});
  EXPECT_EQ(host().command("AT+QPING=1,\"127.0.0.1\",1,1"), "\r\nOK\r\n");
  const auto replies = host().read_until("+QPING: 0,1,", 3000ms);
  host().read_until("\r\n");  // the rest of the summary
  EXPECT_NE(replies.find("+QPING: 0,\"127.0.0.1\",32,80,255"), std::string::npos) << replies;
  network({.latency_ms = 0, .udp_loss_percent = 100});
  EXPECT_EQ(host().command("AT+QPING=1,\"127.0.0.1\",1,1"), "\r\nOK\r\n");
  const auto lost = host().read_until("+QPING: 0,1,0,1,", 4000ms);
  EXPECT_NE(lost.find("+QPING: 569"), std::string::npos) << lost;
}

TEST_F(LinkConditions, ADetachTakesRegistrationAndContextsAndAnAttachBringsRegistrationBack) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  ASSERT_EQ(host().command("AT+CEREG=1"), "\r\nOK\r\n");
  const auto lost = network({.coverage = false});
  EXPECT_FALSE(lost.coverage);
  EXPECT_FALSE(lost.registered);
  const auto urcs = host().read_until("+CEREG: 2\r\n");
  EXPECT_NE(urcs.find("+QIURC: \"pdpdeact\",1"), std::string::npos) << urcs;
  EXPECT_NE(urcs.find("+CEREG: 2"), std::string::npos) << urcs;
  EXPECT_TRUE(echo.saw_reset()) << "the peer sees the connection go";
  EXPECT_EQ(host().command("AT+CEREG?"), "\r\n+CEREG: 1,2\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+CSQ"), "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISTATE?"), "\r\nOK\r\n");
  EXPECT_NE(host().command("AT+QIACT=1").find("ERROR"), std::string::npos);

  EXPECT_TRUE(network({.coverage = true}).registered);
  EXPECT_NE(host().read_until("+CEREG: 1\r\n").find("+CEREG: 1"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIACT?"), "\r\nOK\r\n") << "contexts stay down until the host";
  EXPECT_EQ(host().command("AT+QIACT=1"), "\r\nOK\r\n");
}

TEST_F(LinkConditions, CoverageLostWhileOffHoldsAtTheNextBoot) {
  network({.coverage = false});
  ASSERT_TRUE(m_.on_io([&] { return m_.module().reset().has_value(); }));
  ASSERT_TRUE(m_.wait_power(PowerState::app_rdy));
  host_.reset();
  host_.emplace(m_.port());
  host().command("ATE0");
  EXPECT_EQ(host().command("AT+CEREG?"), "\r\n+CEREG: 0,2\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
