// Quectel's TCP/IP commands against real servers on loopback: an in-process
// module, its AT port opened like a host, and a TCP or UDP echo server on
// 127.0.0.1 in a thread of its own.
#include <string>

#include <gtest/gtest.h>

#include "socket_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using Sockets = SocketFixture;

TEST_F(Sockets, TcpInBufferModeSendsWithAFixedLengthAndReadsWhatCameBack) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  EXPECT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  host().write("AT+QISEND=0,5\r");
  EXPECT_EQ(host().read_until("> "), "> ");
  host().write("hello");
  EXPECT_NE(host().read_until("SEND OK\r\n").find("\r\nSEND OK\r\n"), std::string::npos);
  EXPECT_NE(host().read_until("+QIURC: \"recv\",0\r\n").find("+QIURC: \"recv\",0"),
            std::string::npos);
  EXPECT_EQ(host().command("AT+QIRD=0,1500"), "\r\n+QIRD: 5\r\nhello\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QIRD=0,1500"), "\r\n+QIRD: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QIRD=0,0"), "\r\n+QIRD: 5,5,0\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISEND=0,0"), "\r\n+QISEND: 5,5,0\r\n\r\nOK\r\n");
  const auto state = host().command("AT+QISTATE=1,0");
  EXPECT_NE(state.find("+QISTATE: 0,\"TCP\",\"127.0.0.1\"," + std::to_string(echo.port())),
            std::string::npos)
      << state;
  EXPECT_NE(state.find(",2,1,0,0,\"usbat\""), std::string::npos) << state;
  EXPECT_EQ(echo.received(), "hello");
  EXPECT_EQ(host().command("AT+QICLOSE=0"), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISTATE?"), "\r\nOK\r\n");
}

TEST_F(Sockets, CtrlZEndsTheDataEscCancelsItAndBinaryBytesAreData) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  host().write("AT+QISEND=0\r");
  EXPECT_EQ(host().read_until("> "), "> ");
  host().write("nothing\x1b");
  EXPECT_NE(host().read_until("OK\r\n").find("OK"), std::string::npos);
  const std::string binary("a\r\nAT\r\0z", 8);
  host().write("AT+QISEND=0\r");
  EXPECT_EQ(host().read_until("> "), "> ");
  host().write(binary + "\x1a");
  EXPECT_NE(host().read_until("SEND OK\r\n").find("SEND OK"), std::string::npos);
  host().read_until("+QIURC: \"recv\",0\r\n");
  EXPECT_EQ(host().command("AT+QIRD=0"), "\r\n+QIRD: 8\r\n" + binary + "\r\n\r\nOK\r\n");
  EXPECT_EQ(echo.received(), binary) << "the cancelled data never left the module";
}

TEST_F(Sockets, DirectPushDeliversTheDataInTheUrc) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port(), 1).find("+QIOPEN: 0,0"), std::string::npos);
  host().write("AT+QISEND=0,4\r");
  host().read_until("> ");
  host().write("ping");
  host().read_until("SEND OK\r\n");
  EXPECT_NE(host().read_until("ping\r\n").find("+QIURC: \"recv\",0,4\r\nping\r\n"),
            std::string::npos);
  EXPECT_EQ(host().command("AT+QIRD=0"), "\r\nERROR\r\n") << "nothing is buffered in push mode";
}

TEST_F(Sockets, APeerThatClosesLeavesItsDataReadableAndTheSocketClosing) {
  LoopbackServer server(LoopbackServer::Kind::tcp_greet_and_close, "bye");
  ASSERT_NE(open_tcp(server.port()).find("+QIOPEN: 0,0"), std::string::npos);
  const auto urcs = host().read_until("+QIURC: \"closed\",0\r\n", 5000ms);
  EXPECT_NE(urcs.find("+QIURC: \"recv\",0"), std::string::npos) << urcs;
  EXPECT_NE(urcs.find("+QIURC: \"closed\",0"), std::string::npos) << urcs;
  EXPECT_NE(host().command("AT+QISTATE=1,0").find(",4,1,0,0,"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIRD=0,1500"), "\r\n+QIRD: 3\r\nbye\r\n\r\nOK\r\n");
  host().write("AT+QISEND=0,1\r");
  EXPECT_EQ(host().read_until("ERROR\r\n"), "\r\nERROR\r\n") << "no prompt on a closed socket";
  EXPECT_EQ(host().command("AT+QICLOSE=0"), "\r\nOK\r\n");
}

TEST_F(Sockets, OpensThatCannotSucceedSayWhyInTheUrc) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  // Nothing listens on the port a closed listener had: refused.
  int closed_port = 0;
  {
    LoopbackServer gone(LoopbackServer::Kind::tcp_echo);
    closed_port = gone.port();
  }
  EXPECT_NE(open_tcp(closed_port).find("+QIOPEN: 0,566"), std::string::npos);
  // Outside the module's network (loopback only by default): refused before
  // any packet leaves.
  EXPECT_NE(open("1,1,\"TCP\",\"192.0.2.1\",80,0,0").find("+QIOPEN: 1,566"), std::string::npos);
  EXPECT_NE(open("1,2,\"TCP\",\"no.such.name\",80,0,0").find("+QIOPEN: 2,565"), std::string::npos);
  EXPECT_NE(host().command("AT+QIGETERROR").find("+QIGETERROR: 565,DNS parse failed"),
            std::string::npos);
  EXPECT_NE(open("1,3,\"TCP\",\"localhost\"," + std::to_string(echo.port()) + ",0,0")
                .find("+QIOPEN: 3,0"),
            std::string::npos);
  EXPECT_NE(open("1,3,\"TCP\",\"localhost\"," + std::to_string(echo.port()) + ",0,0")
                .find("+QIOPEN: 3,563"),
            std::string::npos)
      << "the connectID is taken";
  EXPECT_NE(open("2,4,\"TCP\",\"127.0.0.1\",80,0,0").find("+QIOPEN: 4,561"), std::string::npos)
      << "context 2 is not active";
  // A name that is not UTF-8 (a host's garbage) is just a name no one knows.
  EXPECT_NE(open("1,5,\"TCP\",\"\xff\xfe\x80.example\",80,0,0").find("+QIOPEN: 5,565"),
            std::string::npos);
  EXPECT_EQ(host().command("AT+QIDNSGIP=1,\"\xc3\x28\""), "\r\nOK\r\n");
  EXPECT_NE(host().read_until("+QIURC: \"dnsgip\",565\r\n").find("565"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIOPEN=1,12,\"TCP\",\"127.0.0.1\",80"), "\r\nERROR\r\n");
  EXPECT_EQ(host().command("AT+QIOPEN=1,0,\"SCTP\",\"127.0.0.1\",80"), "\r\nERROR\r\n");
}

TEST_F(Sockets, UdpDatagramsGoOutAndComeBack) {
  LoopbackServer echo(LoopbackServer::Kind::udp_echo);
  ASSERT_NE(open("1,5,\"UDP\",\"127.0.0.1\"," + std::to_string(echo.port()) + ",0,0")
                .find("+QIOPEN: 5,0"),
            std::string::npos);
  EXPECT_EQ(host().command("AT+QISENDEX=5,\"48690a\""), "\r\nSEND OK\r\n");
  host().read_until("+QIURC: \"recv\",5\r\n");
  EXPECT_EQ(host().command("AT+QIRD=5"), "\r\n+QIRD: 3\r\nHi\n\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISENDEX=5,\"4g\""), "\r\nERROR\r\n");
}

TEST_F(Sockets, APowerCutResetsThePeersConnectionAndForgetsTheSocket) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  ASSERT_TRUE(m_.on_io([&] { return m_.module().power_cut(PowerCutRequest{}); }));
  EXPECT_TRUE(echo.saw_reset());
  host_.reset();
  m_.power_on();
  ASSERT_TRUE(m_.wait_power(PowerState::app_rdy));
  host_.emplace(m_.port());
  host().command("ATE0");
  EXPECT_EQ(host().command("AT+QISTATE?"), "\r\nOK\r\n");
}

TEST_F(Sockets, DeactivatingTheContextClosesItsSockets) {
  LoopbackServer echo(LoopbackServer::Kind::tcp_echo);
  ASSERT_NE(open_tcp(echo.port()).find("+QIOPEN: 0,0"), std::string::npos);
  EXPECT_EQ(host().command("AT+CGPADDR=1"), "\r\n+CGPADDR: 1,\"10.64.1.2\"\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QIDEACT=1"), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QISTATE?"), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+CGPADDR=1"), "\r\n+CGPADDR: 1,\"0.0.0.0\"\r\n\r\nOK\r\n");
  host().write("AT+QISEND=0,1\r");
  EXPECT_EQ(host().read_until("ERROR\r\n"), "\r\nERROR\r\n");
}

// A client of this machine connecting to the module's TCP LISTENER.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What arrives on `fd` within `timeout`, up to `size` bytes.
std::string receive(int fd, std::size_t size, std::chrono::milliseconds timeout = 3000ms) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (out.size() < size && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, size - out.size()), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// A free local port: bound, read back, released.
int free_local_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(Sockets, ATcpListenerHandsEachConnectionANewConnectId) {
  const int port = free_local_port(SOCK_STREAM);
  ASSERT_NE(open("1,11,\"TCP LISTENER\",\"127.0.0.1\",0," + std::to_string(port) + ",0")
                .find("+QIOPEN: 11,0"),
            std::string::npos);
  EXPECT_NE(host().command("AT+QISTATE=1,11").find(",3,1,0,0,"), std::string::npos) << "listening";
  const int client = connect_to(port);
  ASSERT_GE(client, 0);
  auto incoming = host().read_until("+QIURC: \"incoming\",", 3000ms);
  incoming += host().read_until("\r\n");
  EXPECT_NE(incoming.find("+QIURC: \"incoming\",0,11,\"127.0.0.1\","), std::string::npos)
      << incoming;
  const auto state = host().command("AT+QISTATE=1,0");
  EXPECT_NE(state.find("+QISTATE: 0,\"TCP INCOMING\",\"127.0.0.1\","), std::string::npos) << state;
  EXPECT_NE(state.find(",2,1,11,0,"), std::string::npos) << "connected, server 11: " << state;
  ASSERT_EQ(::send(client, "from client", 11, 0), 11);
  host().read_until("+QIURC: \"recv\",0\r\n");
  EXPECT_EQ(host().command("AT+QIRD=0"), "\r\n+QIRD: 11\r\nfrom client\r\n\r\nOK\r\n");
  host().write("AT+QISEND=0,6\r");
  host().read_until("> ");
  host().write("answer");
  host().read_until("SEND OK\r\n");
  EXPECT_EQ(receive(client, 6), "answer");
  ::close(client);
  EXPECT_NE(host().read_until("+QIURC: \"closed\",0\r\n").find("closed"), std::string::npos);
}

TEST_F(Sockets, AUdpServiceReadsEachSenderAndAnswersTheAddressGiven) {
  const int port = free_local_port(SOCK_DGRAM);
  ASSERT_NE(open("1,2,\"UDP SERVICE\",\"127.0.0.1\",0," + std::to_string(port) + ",0")
                .find("+QIOPEN: 2,0"),
            std::string::npos);
  const int peer = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in self{};
  self.sin_family = AF_INET;
  self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof self;
  ASSERT_EQ(::bind(peer, reinterpret_cast<sockaddr*>(&self), len), 0);
  ASSERT_EQ(::getsockname(peer, reinterpret_cast<sockaddr*>(&self), &len), 0);
  const int peer_port = ntohs(self.sin_port);
  sockaddr_in module{};
  module.sin_family = AF_INET;
  module.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  module.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::sendto(peer, "dgram", 5, 0, reinterpret_cast<sockaddr*>(&module), sizeof module), 5);
  host().read_until("+QIURC: \"recv\",2\r\n");
  EXPECT_EQ(host().command("AT+QIRD=2"),
            "\r\n+QIRD: 5,\"127.0.0.1\"," + std::to_string(peer_port) + "\r\ndgram\r\n\r\nOK\r\n");
  host().write("AT+QISEND=2,4,\"127.0.0.1\"," + std::to_string(peer_port) + "\r");
  EXPECT_EQ(host().read_until("> "), "> ");
  host().write("back");
  host().read_until("SEND OK\r\n");
  EXPECT_EQ(receive(peer, 4), "back");
  host().write("AT+QISEND=2,4\r");
  EXPECT_EQ(host().read_until("ERROR\r\n"), "\r\nERROR\r\n") << "a service needs the address";
  EXPECT_EQ(host().command("AT+QISEND=2,0"), "\r\n+QISEND: 4,4,0\r\n\r\nOK\r\n");
  ::close(peer);
}

TEST_F(Sockets, NamesResolveThroughTheModulesOwnHostsMap) {
  EXPECT_EQ(host().command("AT+QIDNSGIP=1,\"localhost\""), "\r\nOK\r\n");
  auto urcs = host().read_until("+QIURC: \"dnsgip\",\"", 3000ms);
  urcs += host().read_until("\r\n");
  EXPECT_NE(urcs.find("+QIURC: \"dnsgip\",0,1,600"), std::string::npos) << urcs;
  EXPECT_NE(urcs.find("+QIURC: \"dnsgip\",\"127.0.0.1\""), std::string::npos) << urcs;
  EXPECT_EQ(host().command("AT+QIDNSGIP=1,\"no.such.name\""), "\r\nOK\r\n");
  EXPECT_NE(host().read_until("+QIURC: \"dnsgip\",565\r\n").find("565"), std::string::npos);
  EXPECT_EQ(host().command("AT+QIDNSCFG=1,\"10.0.0.53\""), "\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QIDNSCFG=1"),
            "\r\n+QIDNSCFG: 1,\"10.0.0.53\",\"0.0.0.0\"\r\n\r\nOK\r\n");
  EXPECT_EQ(host().command("AT+QIDNSCFG=1,\"not an address\""), "\r\nERROR\r\n");
}

TEST_F(Sockets, APingAnswersOnTheNetworkAndTimesOutOffIt) {
  EXPECT_EQ(host().command("AT+QPING=1,\"127.0.0.1\",1,2"), "\r\nOK\r\n");
  auto replies = host().read_until("+QPING: 0,2,", 3000ms);
  replies += host().read_until("\r\n");
  EXPECT_NE(replies.find("+QPING: 0,\"127.0.0.1\",32,1,255"), std::string::npos) << replies;
  EXPECT_NE(replies.find("+QPING: 0,2,2,0,1,1,1"), std::string::npos) << replies;
  // 192.0.2.1 is outside the module's network: each ping waits its timeout.
  EXPECT_EQ(host().command("AT+QPING=1,\"192.0.2.1\",1,1"), "\r\nOK\r\n");
  const auto lost = host().read_until("+QPING: 0,1,0,1,0,0,0\r\n", 4000ms);
  EXPECT_NE(lost.find("+QPING: 569\r\n"), std::string::npos) << lost;
  EXPECT_NE(lost.find("+QPING: 0,1,0,1,0,0,0"), std::string::npos) << lost;
}

}  // namespace
}  // namespace vmodem::sim::testing
