// Quectel's GNSS commands on the receiver alone (no Module): sessions, the
// time to first fix, AT+QGPSLOC's three coordinate formats, NMEA through
// AT+QGPSGNMEA, and a hidden sky.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>

#include "commands/command_set.hpp"
#include "commands/gnss.hpp"

namespace vmodem::sim {
namespace {

class GnssCommands : public ::testing::Test {
 protected:
  // `ttff`: zero fixes at once; an hour never fixes within a test.
  void start(std::chrono::milliseconds ttff) {
    GnssConfig where;
    where.latitude = -33.85678;
    where.longitude = 151.21528;
    where.altitude_m = 42.0;
    where.satellites = 7;
    receiver_ = std::make_unique<GnssReceiver>(where, ttff);
    at::install_v250_commands(registry_);
    register_gnss_commands(registry_, *receiver_);
    engine_ = std::make_unique<at::Engine>(registry_, at::EngineConfig{});
    engine_->settings().echo = false;
    engine_->settings().cmee = at::CmeeMode::kNumeric;
  }
  std::string send(const std::string& line) {
    EXPECT_EQ(engine_->feed(line + "\r"), line.size() + 1);
    return engine_->take_output();
  }

  at::Registry registry_;
  std::unique_ptr<GnssReceiver> receiver_;
  std::unique_ptr<at::Engine> engine_;
};

TEST_F(GnssCommands, ASessionStartsOnceAndEndsOnce) {
  start(std::chrono::milliseconds(0));
  EXPECT_EQ(send("AT+QGPS?"), "\r\n+QGPS: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSLOC=2"), "\r\n+CME ERROR: 505\r\n") << "no session";
  EXPECT_EQ(send("AT+QGPS=1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPS=1"), "\r\n+CME ERROR: 504\r\n") << "already running";
  EXPECT_EQ(send("AT+QGPS?"), "\r\n+QGPS: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPS=2"), "\r\nERROR\r\n") << "only stand-alone mode";
  EXPECT_EQ(send("AT+QGPSEND"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSEND"), "\r\n+CME ERROR: 505\r\n");
}

TEST_F(GnssCommands, NoFixBeforeTheTimeToFirstFix) {
  start(std::chrono::hours(1));
  EXPECT_EQ(send("AT+QGPS=1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSLOC=2"), "\r\n+CME ERROR: 516\r\n");
}

TEST_F(GnssCommands, TheFixComesInTheThreeCoordinateFormats) {
  start(std::chrono::milliseconds(0));
  ASSERT_EQ(send("AT+QGPS=1"), "\r\nOK\r\n");
  const auto degrees = send("AT+QGPSLOC=2");
  EXPECT_NE(degrees.find(",-33.85678,151.21528,1.0,42.0,3,0.00,0.0,0.0,"), std::string::npos)
      << degrees;
  EXPECT_NE(degrees.find(",07\r\n\r\nOK\r\n"), std::string::npos) << "satellites last" << degrees;
  const auto minutes = send("AT+QGPSLOC=0");
  EXPECT_NE(minutes.find(",3351.4068S,15112.9168E,"), std::string::npos) << minutes;
  const auto plain = send("AT+QGPSLOC");
  EXPECT_NE(plain.find(",3351.4068S,15112.9168E,"), std::string::npos) << "no mode is mode 0";
  const auto fine = send("AT+QGPSLOC=1");
  EXPECT_NE(fine.find(",3351.406800S,15112.916800E,"), std::string::npos) << fine;
  EXPECT_EQ(send("AT+QGPSLOC=3"), "\r\nERROR\r\n");
}

TEST_F(GnssCommands, AHiddenSkyLosesTheFixAndAMoveShowsAtOnce) {
  start(std::chrono::milliseconds(0));
  ASSERT_EQ(send("AT+QGPS=1"), "\r\nOK\r\n");
  receiver_->set_signal(false);
  EXPECT_EQ(send("AT+QGPSLOC=2"), "\r\n+CME ERROR: 516\r\n");
  receiver_->set_signal(true);
  receiver_->move_to(48.85837, 2.29448, std::nullopt);
  EXPECT_NE(send("AT+QGPSLOC=2").find(",48.85837,2.29448,1.0,42.0,"), std::string::npos);
}

TEST_F(GnssCommands, NmeaComesThroughAtOnlyWithNmeasrcAndHasItsChecksum) {
  start(std::chrono::milliseconds(0));
  ASSERT_EQ(send("AT+QGPS=1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSGNMEA=\"GGA\""), "\r\n+CME ERROR: 3\r\n") << "nmeasrc is off";
  EXPECT_EQ(send("AT+QGPSCFG=\"nmeasrc\",1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSCFG=\"nmeasrc\""), "\r\n+QGPSCFG: \"nmeasrc\",1\r\n\r\nOK\r\n");
  const auto gga = send("AT+QGPSGNMEA=\"GGA\"");
  ASSERT_NE(gga.find("+QGPSGNMEA: $GPGGA,"), std::string::npos) << gga;
  EXPECT_NE(gga.find(",3351.4068,S,15112.9168,E,1,07,1.0,42.0,M,"), std::string::npos) << gga;
  // The checksum: XOR of every character between '$' and '*'.
  const auto dollar = gga.find('$');
  const auto star = gga.find('*');
  unsigned sum = 0;
  for (auto i = dollar + 1; i < star; ++i)
    sum ^= static_cast<unsigned char>(gga[i]);
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02X", sum);
  EXPECT_EQ(gga.substr(star + 1, 2), hex);
  EXPECT_NE(send("AT+QGPSGNMEA=\"rmc\"").find("$GPRMC,"), std::string::npos);
  // Seven satellites in view: two GSV sentences of up to four each (PRN,
  // elevation, azimuth, SNR), and GSA names the seven used.
  const auto gsv = send("AT+QGPSGNMEA=\"GSV\"");
  EXPECT_NE(gsv.find("+QGPSGNMEA: $GPGSV,2,1,07,02,15,000,30,05,52,083,37,"), std::string::npos)
      << gsv;
  EXPECT_NE(gsv.find("\r\n+QGPSGNMEA: $GPGSV,2,2,07,"), std::string::npos) << gsv;
  EXPECT_NE(send("AT+QGPSGNMEA=\"GSA\"").find("$GPGSA,A,3,02,05,08,11,14,17,20,,,,,,1.5,"),
            std::string::npos);
  EXPECT_EQ(send("AT+QGPSGNMEA=\"XYZ\""), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+QGPSCFG=\"outport\",\"uartnmea\""), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSCFG=\"outport\""), "\r\n+QGPSCFG: \"outport\",\"uartnmea\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QGPSCFG=\"gnssconfig\",1"), "\r\nERROR\r\n") << "not simulated";
}

}  // namespace
}  // namespace vmodem::sim
