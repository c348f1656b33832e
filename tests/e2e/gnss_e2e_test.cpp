// GNSS through the real binary: `ctl gnss` places the module, a host starts
// a session on the AT port and reads the receiver's sentences on the NMEA
// port (ttyUSB1) as gpsd or `cat /dev/ttyUSB1` would.
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

using namespace std::chrono_literals;

// The NMEA lines in `text` ("$...*hh" each), in order.
std::vector<std::string> sentences(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = text.find('$', at)) != std::string::npos) {
    const std::size_t end = text.find("\r\n", at);
    if (end == std::string::npos) break;
    out.push_back(text.substr(at, end - at));
    at = end;
  }
  return out;
}

// NMEA 0183's checksum: XOR of the characters between '$' and '*'.
bool checksum_ok(const std::string& sentence) {
  const std::size_t star = sentence.rfind('*');
  if (sentence.empty() || sentence[0] != '$' || star == std::string::npos) return false;
  unsigned sum = 0;
  for (std::size_t i = 1; i < star; ++i)
    sum ^= static_cast<unsigned char>(sentence[i]);
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02X", sum);
  return sentence.substr(star + 1) == hex;
}

TEST(GnssE2e, TheNmeaPortCarriesEachSecondsSentencesOfASession) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  const auto placed = daemon.ctl("gnss --latitude 59.32938 --longitude 18.06871");
  ASSERT_FALSE(placed.contains("error")) << placed.dump();
  Host nmea(daemon.port("ttyUSB1"));
  EXPECT_EQ(host.command("AT+QGPSCFG=\"outport\""),
            "\r\n+QGPSCFG: \"outport\",\"usbnmea\"\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QGPS=1"), "\r\nOK\r\n");

  // Fast mode fixes within a second or two; every second brings a burst.
  std::string fixed = nmea.read_until("K,A*", 5000ms);  // a VTG with a fix ends a burst
  fixed += nmea.read_until("\r\n");
  const auto lines = sentences(fixed);
  for (const auto& line : lines)
    EXPECT_TRUE(checksum_ok(line)) << line;
  // The last burst: from its GGA on.
  std::size_t gga_at = lines.size();
  while (gga_at > 0 && !lines[gga_at - 1].starts_with("$GPGGA"))
    --gga_at;
  ASSERT_GT(gga_at, 0U) << fixed;
  std::vector<std::string> burst;
  for (std::size_t i = gga_at - 1; i < lines.size(); ++i)
    burst.push_back(lines[i].substr(0, 6));
  // Nine satellites in view: three GSV sentences.
  EXPECT_EQ(burst, (std::vector<std::string>{"$GPGGA", "$GPRMC", "$GPGSV", "$GPGSV", "$GPGSV",
                                             "$GPGSA", "$GPVTG"}))
      << fixed;
  const std::string& gga = lines[gga_at - 1];
  EXPECT_NE(gga.find(",5919.7628,N,01804.1226,E,1,09,"), std::string::npos) << gga;

  // The NMEA port has no AT engine: a command written to it gets no answer,
  // only the next second's sentences.
  nmea.write("AT\r");
  const std::string after = nmea.read_until("$GPVTG", 3000ms);
  EXPECT_NE(after.find("$GPGGA"), std::string::npos) << after;
  EXPECT_EQ(after.find("OK"), std::string::npos) << after;
  EXPECT_EQ(host.command("AT+QGPSEND"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::e2e
