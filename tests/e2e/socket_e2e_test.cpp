// The real vmodem binary's TCP/IP commands against a real server: a host
// fetches a page from nginx on loopback by hand, as a TinyGSM-style driver
// does (AT+QIOPEN, AT+QISEND with Ctrl-Z, +QIURC: "recv", AT+QIRD until the
// server has closed and the buffer is empty).
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "fota_servers.hpp"

namespace vmodem::e2e {
namespace {

std::string page(std::size_t size) {
  std::string text;
  for (std::size_t line = 0; text.size() < size; ++line)
    text += "line " + std::to_string(line) + " of a page fetched over AT+QIRD\n";
  text.resize(size);
  return text;
}

// The bytes of every +QIRD: <n> block in `answer`; -1 when it has none.
long qird_length(const std::string& answer) {
  static const std::regex pattern("\\+QIRD: (\\d+)\r\n");
  std::smatch m;
  if (!std::regex_search(answer, m, pattern)) return -1;
  return std::stol(m[1]);
}

TEST(SocketE2e, AHostFetchesAPageFromNginxOverQisendAndQird) {
  vmodem::testing::TempDir files;
  const std::string body = page(5000);  // more than one AT+QIRD of 1500 bytes
  std::ofstream(files.path() / "page.txt", std::ios::binary) << body;
  HttpServer server(files.path());
  if (!server.unavailable().empty()) GTEST_SKIP() << server.unavailable();

  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  ASSERT_EQ(host.command("AT+QIACT=1"), "\r\nOK\r\n");
  ASSERT_EQ(
      host.command("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\"," + std::to_string(server.port()) + ",0,0"),
      "\r\nOK\r\n");
  ASSERT_NE(host.read_until("+QIOPEN: 0,0\r\n", 5000ms).find("+QIOPEN: 0,0"), std::string::npos);

  host.write("AT+QISEND=0\r");
  ASSERT_EQ(host.read_until("> "), "> ");
  host.write("GET /page.txt HTTP/1.0\r\nHost: localhost\r\n\r\n\x1a");
  ASSERT_NE(host.read_until("SEND OK\r\n").find("SEND OK"), std::string::npos);

  // Read while data is announced; nginx closes after an HTTP/1.0 answer.
  std::string response, urcs = host.read_until("+QIURC: \"recv\",0\r\n", 5000ms);
  for (int round = 0; round < 50; ++round) {
    const std::string answer = host.command("AT+QIRD=0,1500");
    urcs += answer;  // URCs come between answers (the page has no "+QIURC")
    const long n = qird_length(answer);
    ASSERT_GE(n, 0) << answer;
    if (n == 0) {
      if (urcs.find("+QIURC: \"closed\",0") != std::string::npos) break;
      urcs += host.read_until("+QIURC:", 5000ms);
      urcs += host.read_until("\r\n", 1000ms);
      continue;
    }
    const auto start = answer.find("\r\n", answer.find("+QIRD: ")) + 2;
    response += answer.substr(start, static_cast<std::size_t>(n));
  }
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response.substr(0, 200);
  const auto blank = response.find("\r\n\r\n");
  ASSERT_NE(blank, std::string::npos);
  EXPECT_EQ(response.substr(blank + 4), body);
  EXPECT_NE(urcs.find("+QIURC: \"closed\",0"), std::string::npos) << urcs;
  EXPECT_EQ(host.command("AT+QIRD=0,0"), "\r\n+QIRD: " + std::to_string(response.size()) + "," +
                                             std::to_string(response.size()) + ",0\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QICLOSE=0"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::e2e
