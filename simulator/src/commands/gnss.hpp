// The module's GNSS receiver as Quectel's GNSS commands see it (BG95 GNSS
// application note): a session the host starts (AT+QGPS=1) and ends
// (AT+QGPSEND); once it has run for the time to first fix, a fix at the
// position the profile gives (or `ctl gnss` sets), with the satellites in
// view; no fix while the sky is hidden (`ctl gnss --no-signal`).
//
// The position and the signal are the world's: they outlive boots. The
// session is the module's: a boot or a power loss ends it.
//
// Thread: the module's io thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

struct GnssFix {
  double latitude = 0, longitude = 0, altitude_m = 0;  // degrees, metres
  std::uint32_t satellites = 0;
  std::chrono::system_clock::time_point utc;
};

class GnssReceiver {
 public:
  // `ttff`: the time to first fix as this run counts it (fast mode scales it).
  GnssReceiver(const GnssConfig& config, std::chrono::milliseconds ttff);

  bool on() const { return started_.has_value(); }
  // False when a session already runs (the command answers 504).
  bool start();
  // False when none runs (505).
  bool stop();
  // At each boot and power loss: the session ends.
  void power_reset() { started_.reset(); }

  // The fix now; nullopt while off, before the first fix, or with no signal.
  std::optional<GnssFix> fix() const;

  // `ctl gnss`: the world.
  void move_to(double latitude, double longitude, std::optional<double> altitude_m);
  void set_signal(bool visible) { signal_ = visible; }
  bool signal() const { return signal_; }
  const GnssConfig& position() const { return world_; }

  // AT+QGPSCFG: where the receiver's sentences go each second ("usbnmea",
  // the NMEA port; "uartnmea", a UART not simulated; "none"), and whether
  // AT+QGPSGNMEA may read them ("nmeasrc"). Kept across boots.
  const std::string& outport() const { return outport_; }
  void set_outport(std::string port) { outport_ = std::move(port); }
  bool nmea_by_at() const { return nmea_by_at_; }
  void set_nmea_by_at(bool allowed) { nmea_by_at_ = allowed; }
  // What the receiver sends each second while a session runs, in order:
  // GGA, RMC, GSV, GSA, VTG (fields empty before a fix). Empty while off.
  std::vector<std::string> nmea_burst() const;

 private:
  GnssConfig world_;
  std::chrono::milliseconds ttff_;
  std::optional<std::chrono::steady_clock::time_point> started_;
  bool signal_ = true;
  std::string outport_ = "usbnmea";
  bool nmea_by_at_ = false;
};

// A coordinate as NMEA and AT+QGPSLOC write it: ddmm.mm… (dddmm.mm… for a
// longitude) with `decimals` places of minutes, `separator`, the hemisphere.
std::string degrees_minutes(double degrees, bool latitude, int decimals,
                            std::string_view separator);

// NMEA 0183 sentences of one type for `fix` (nullopt: no fix, fields
// empty), talker "GP": GGA, RMC, VTG, GSA, or GSV (one sentence per four
// satellites in view); `type` upper case. Each with "$" and "*hh". Empty for
// a type it does not know. The sky is made up but fixed: satellite i has
// PRN 2+3i, and an elevation, azimuth and SNR derived from i.
std::vector<std::string> nmea_sentences(const std::string& type, const std::optional<GnssFix>& fix);

}  // namespace vmodem::sim
