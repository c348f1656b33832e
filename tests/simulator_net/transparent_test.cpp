// Transparent access mode (AT+QIOPEN <access_mode> 2, AT+QISWTMD, `+++`,
// ATO) against real servers on loopback through the module's real PTY.
// The escape needs a second of silence before and after `+++` (the module's
// guard time): the waits below are that protocol rule, not stand-ins for
// events.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "socket_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class Transparent : public SocketFixture {
 protected:
  // The silence the escape requires, a little more.
  static constexpr auto kGuard = 1100ms;

  std::string escape() {
    std::this_thread::sleep_for(kGuard);
    host().write("+++");
    return host().read_until("OK\r\n", 4000ms);
  }
  std::string open_transparent(int port) {
    host().write("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\"," + std::to_string(port) + ",0,2\r");
    std::string answer = host().read_until("\r\n", 5000ms);  // the blank line before
    answer += host().read_until("\r\n", 5000ms);
    return answer;
  }
};

TEST_F(Transparent, DataFlowsRawUntilTheEscapeAndAtoResumesWithWhatArrivedMeanwhile) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  EXPECT_EQ(open_transparent(echo.port()), "\r\nCONNECT\r\n")
      << "no OK and no +QIOPEN in transparent mode";
  const std::string raw("AT+QICLOSE=0\r\n\x1a\x1b\0+x", 19);
  host().write(raw);
  EXPECT_EQ(host().read_until("+x"), raw) << "commands, Ctrl-Z, ESC and NUL are data both ways";
  EXPECT_EQ(escape(), "\r\nOK\r\n");
  EXPECT_EQ(echo.received(), raw) << "the escape never reached the peer";

  // Suspended: the socket is in buffer access mode until ATO.
  EXPECT_NE(host().command("AT+QISTATE=1,0").find(",2,1,0,0,\"usbat\""), std::string::npos);
  host().write("AT+QISEND=0,4\r");
  host().read_until("> ");
  host().write("back");
  host().read_until("SEND OK\r\n");
  EXPECT_NE(host().read_until("+QIURC: \"recv\",0\r\n").find("+QIURC: \"recv\",0"),
            std::string::npos);
  host().write("ATO\r");
  EXPECT_EQ(host().read_until("back"), "\r\nCONNECT\r\nback") << "the unread data comes first";
  host().write("more");
  EXPECT_EQ(host().read_until("more"), "more");
  EXPECT_EQ(escape(), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QICLOSE=0"), "\r\nOK\r\n");
  EXPECT_EQ(host().command("ATO"), "\r\nNO CARRIER\r\n") << "nothing left to resume";
}

TEST_F(Transparent, APeerThatClosesEndsOnlineModeWithNoCarrierAfterItsData) {
  LoopbackServer server(LoopbackServer::Kind::tcp_greet_and_close, "bye");
  EXPECT_EQ(open_transparent(server.port()), "\r\nCONNECT\r\n");
  EXPECT_EQ(host().read_until("NO CARRIER\r\n", 5000ms), "bye\r\nNO CARRIER\r\n");
  EXPECT_NE(host().command("AT+QISTATE=1,0").find(",4,1,0,2,"), std::string::npos)
      << "closing, until the host closes it";
  EXPECT_EQ(host().command("ATO"), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(host().command("AT+QICLOSE=0"), "\r\nOK\r\n");
}

TEST_F(Transparent, OpensThatFailAnswerErrorAndQigeterrorSaysWhy) {
  int closed_port = 0;
  {
    LoopbackServer gone(LoopbackServer::Kind::tcp_echo);
    closed_port = gone.port();
  }
  EXPECT_EQ(open_transparent(closed_port), "\r\nERROR\r\n");
  EXPECT_NE(host().command("AT+QIGETERROR").find("+QIGETERROR: 566,"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIOPEN=2,1,\"TCP\",\"127.0.0.1\",80,0,2"), "\r\nERROR\r\n");
  EXPECT_NE(host().command("AT+QIGETERROR").find("+QIGETERROR: 561,"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIOPEN=1,2,\"TCP LISTENER\",\"127.0.0.1\",0,0,2"), "\r\nERROR\r\n");
  EXPECT_NE(host().command("AT+QIGETERROR").find("+QIGETERROR: 555,"), std::string::npos);
  EXPECT_EQ(host().command("AT+QISTATE?"), "\r\nOK\r\n") << "no socket was left behind";
}

TEST_F(Transparent, QiswtmdSwitchesABufferSocketToTransparentAndBack) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  EXPECT_EQ(host().command("AT+QISWTMD=?"), "\r\n+QISWTMD: (0-11),(0-2)\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISWTMD=5,2"), "\r\nERROR\r\n") << "no socket 5";
  host().write("AT+QISWTMD=0,2\r");
  EXPECT_EQ(host().read_until("CONNECT\r\n"), "\r\nCONNECT\r\n");
  host().write("raw");
  EXPECT_EQ(host().read_until("raw"), "raw");
  EXPECT_EQ(escape(), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISWTMD=0,1"), "\r\nOK\r\n");
  host().write("AT+QISEND=0,4\r");
  host().read_until("> ");
  host().write("push");
  EXPECT_NE(host().read_until("push\r\n").find("+QIURC: \"recv\",0,4\r\npush"), std::string::npos);
  EXPECT_NE(host().command("AT+QISTATE=1,0").find(",2,1,0,1,"), std::string::npos);
}

TEST_F(Transparent, APowerCutEndsTheSessionAndResetsThePeer) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  EXPECT_EQ(open_transparent(echo.port()), "\r\nCONNECT\r\n");
  host().write("x");
  EXPECT_EQ(host().read_until("x"), "x");
  ASSERT_TRUE(m_.on_io([&] { return m_.module().power_cut(PowerCutRequest{}); }));
  EXPECT_TRUE(echo.saw_reset());
}

}  // namespace
}  // namespace vmodem::sim::testing
