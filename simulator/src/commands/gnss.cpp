#include "commands/gnss.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace vmodem::sim {

GnssReceiver::GnssReceiver(const GnssConfig& config, std::chrono::milliseconds ttff)
    : world_(config), ttff_(ttff) {}

bool GnssReceiver::start() {
  if (started_) return false;
  started_ = std::chrono::steady_clock::now();
  return true;
}

bool GnssReceiver::stop() {
  if (!started_) return false;
  started_.reset();
  return true;
}

std::optional<GnssFix> GnssReceiver::fix() const {
  if (!started_ || !signal_ || std::chrono::steady_clock::now() - *started_ < ttff_)
    return std::nullopt;
  return GnssFix{.latitude = world_.latitude,
                 .longitude = world_.longitude,
                 .altitude_m = world_.altitude_m,
                 .satellites = world_.satellites,
                 .utc = std::chrono::system_clock::now()};
}

void GnssReceiver::move_to(double latitude, double longitude, std::optional<double> altitude_m) {
  world_.latitude = latitude;
  world_.longitude = longitude;
  if (altitude_m) world_.altitude_m = *altitude_m;
}

namespace {

std::string format(const char* pattern, auto... values) {
  char text[160];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

std::string coordinate(double degrees, bool latitude) {
  return degrees_minutes(degrees, latitude, 4, ",");
}

std::tm utc_of(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return parts;
}

std::string with_checksum(const std::string& body) {
  unsigned sum = 0;
  for (const char c : body)
    sum ^= static_cast<unsigned char>(c);
  return "$" + body + format("*%02X", sum);
}

// Satellite i of the made-up sky: PRN, elevation, azimuth, SNR.
std::string satellite_fields(std::uint32_t i) {
  return format(",%02u,%02u,%03u,%02u", 2 + 3 * i, 15 + (i * 37) % 70, (i * 83) % 360,
                30 + (i * 7) % 15);
}

std::vector<std::string> gsv_sentences(std::uint32_t in_view) {
  const std::uint32_t count = in_view == 0 ? 1 : (in_view + 3) / 4;
  std::vector<std::string> out;
  for (std::uint32_t n = 0; n < count; ++n) {
    std::string body = format("GPGSV,%u,%u,%02u", count, n + 1, in_view);
    for (std::uint32_t i = 4 * n; i < std::min(in_view, 4 * n + 4); ++i)
      body += satellite_fields(i);
    out.push_back(with_checksum(body));
  }
  return out;
}

// GSA: 3D fix, the PRNs of up to 12 satellites used.
std::string gsa_sentence(const std::optional<GnssFix>& fix) {
  if (!fix) return with_checksum("GPGSA,A,1,,,,,,,,,,,,,,,");
  std::string body = "GPGSA,A,3";
  for (std::uint32_t i = 0; i < 12; ++i)
    body += i < fix->satellites ? format(",%02u", 2 + 3 * i) : std::string(",");
  return with_checksum(body + ",1.5,1.0,1.1");
}

std::optional<std::string> nmea_sentence(const std::string& type,
                                         const std::optional<GnssFix>& fix) {
  const auto now = fix ? fix->utc : std::chrono::system_clock::now();
  const std::tm t = utc_of(now);
  const std::string time = format("%02d%02d%02d.000", t.tm_hour, t.tm_min, t.tm_sec);
  const std::string date = format("%02d%02d%02d", t.tm_mday, t.tm_mon + 1, t.tm_year % 100);
  if (type == "GGA") {
    if (!fix) return with_checksum("GPGGA," + time + ",,,,,0,00,,,M,,M,,");
    return with_checksum("GPGGA," + time + "," + coordinate(fix->latitude, true) + "," +
                         coordinate(fix->longitude, false) +
                         format(",1,%02u,1.0,%.1f,M,0.0,M,,", fix->satellites, fix->altitude_m));
  }
  if (type == "RMC") {
    if (!fix) return with_checksum("GPRMC," + time + ",V,,,,,,," + date + ",,,N");
    return with_checksum("GPRMC," + time + ",A," + coordinate(fix->latitude, true) + "," +
                         coordinate(fix->longitude, false) + ",0.0,0.0," + date + ",,,A");
  }
  if (type == "VTG")
    return with_checksum(fix ? "GPVTG,0.0,T,,M,0.0,N,0.0,K,A" : "GPVTG,,T,,M,,N,,K,N");
  if (type == "GSA") return gsa_sentence(fix);
  return std::nullopt;
}

}  // namespace

std::vector<std::string> nmea_sentences(const std::string& type,
                                        const std::optional<GnssFix>& fix) {
  if (type == "GSV") return gsv_sentences(fix ? fix->satellites : 0U);
  if (auto one = nmea_sentence(type, fix)) return {std::move(*one)};
  return {};
}

std::vector<std::string> GnssReceiver::nmea_burst() const {
  std::vector<std::string> burst;
  if (!on()) return burst;
  const auto now = fix();
  for (const char* type : {"GGA", "RMC", "GSV", "GSA", "VTG"}) {
    for (auto& sentence : nmea_sentences(type, now))
      burst.push_back(std::move(sentence));
  }
  return burst;
}

std::string degrees_minutes(double degrees, bool latitude, int decimals,
                            std::string_view separator) {
  const double magnitude = std::fabs(degrees);
  const int whole = static_cast<int>(magnitude);
  const double minutes = (magnitude - whole) * 60.0;
  const char hemisphere = latitude ? (degrees < 0 ? 'S' : 'N') : (degrees < 0 ? 'W' : 'E');
  const std::string text =
      format(latitude ? "%02d%0*.*f" : "%03d%0*.*f", whole, decimals + 3, decimals, minutes);
  return text + std::string(separator) + hemisphere;
}

}  // namespace vmodem::sim
