// Quectel's GNSS commands (BG95 GNSS application note) over the module's
// receiver (gnss.hpp): AT+QGPS, AT+QGPSEND, AT+QGPSLOC, AT+QGPSCFG
// ("nmeasrc", "outport") and AT+QGPSGNMEA.
//
//   AT+QGPS=1
//   OK
//   AT+QGPSLOC=2                 (before the first fix: +CME ERROR: 516)
//   +QGPSLOC: 061951.000,31.16480,121.38580,1.0,10.0,3,0.00,0.0,0.0,061226,09
//   OK
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/gnss.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

namespace {

// Quectel's GNSS error codes.
constexpr int kSessionOngoing = 504, kSessionNotActive = 505, kNotFixed = 516;

std::string format(const char* pattern, auto... values) {
  char text[96];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

// A coordinate as AT+QGPSLOC=<mode> writes it: 0 ddmm.mmmmN, 1 ddmm.mmmmmmN,
// 2 signed degrees with five decimals.
std::string coordinate(double degrees, bool latitude, int mode) {
  if (mode == 2) return format("%.5f", degrees);
  return degrees_minutes(degrees, latitude, mode == 1 ? 6 : 4, "");
}

std::string location_line(const GnssFix& fix, int mode) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(fix.utc);
  std::tm t{};
  gmtime_r(&seconds, &t);
  return "+QGPSLOC: " + format("%02d%02d%02d.000", t.tm_hour, t.tm_min, t.tm_sec) + "," +
         coordinate(fix.latitude, true, mode) + "," + coordinate(fix.longitude, false, mode) +
         format(",1.0,%.1f,3,0.00,0.0,0.0,", fix.altitude_m) +
         format("%02d%02d%02d,%02u", t.tm_mday, t.tm_mon + 1, t.tm_year % 100, fix.satellites);
}

void register_qgps(at::Registry& registry, GnssReceiver& gnss) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [&gnss](at::Call& call) {
    const auto mode = int_arg(call.command, 0, 1, 1);  // 1: stand-alone, the only one simulated
    if (!mode || call.command.args.size() > 5) return void(call.responder.error());
    if (!gnss.start()) return void(call.responder.cme_error(kSessionOngoing));
    call.responder.ok();
  };
  spec.read = [&gnss](at::Call& call) {
    call.responder.info(std::string("+QGPS: ") + (gnss.on() ? "1" : "0"));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QGPS: (1),(1-255),(1-1000),(0-1000),(1)");
    call.responder.ok();
  };
  (void)registry.add("+QGPS", std::move(spec));

  at::CommandSpec end;
  end.gate_tag = kNeedsRdy;
  end.execute = [&gnss](at::Call& call) {
    if (!gnss.stop()) return void(call.responder.cme_error(kSessionNotActive));
    call.responder.ok();
  };
  (void)registry.add("+QGPSEND", std::move(end));
}

void register_qgpsloc(at::Registry& registry, GnssReceiver& gnss) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto locate = [&gnss](at::Call& call, int mode) {
    if (!gnss.on()) return void(call.responder.cme_error(kSessionNotActive));
    const auto fix = gnss.fix();
    if (!fix) return void(call.responder.cme_error(kNotFixed));
    call.responder.info(location_line(*fix, mode));
    call.responder.ok();
  };
  spec.execute = [locate](at::Call& call) { locate(call, 0); };
  spec.write = [locate](at::Call& call) {
    const auto mode = int_arg(call.command, 0, 0, 2);
    if (!mode || call.command.args.size() > 1) return void(call.responder.error());
    locate(call, static_cast<int>(*mode));
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QGPSLOC: (0-2)");
    call.responder.ok();
  };
  (void)registry.add("+QGPSLOC", std::move(spec));
}

void register_nmea(at::Registry& registry, GnssReceiver& gnss) {
  at::CommandSpec cfg;
  cfg.gate_tag = kNeedsRdy;
  cfg.write = [&gnss](at::Call& call) {
    const auto name = str_arg(call.command, 0);
    const bool reading = call.command.args.size() == 1;
    if (name == "nmeasrc") {
      if (!reading) {
        const auto value = int_arg(call.command, 1, 0, 1);
        if (!value || call.command.args.size() > 2) return void(call.responder.error());
        gnss.set_nmea_by_at(*value == 1);
      } else {
        call.responder.info(std::string("+QGPSCFG: \"nmeasrc\",") +
                            (gnss.nmea_by_at() ? "1" : "0"));
      }
      return void(call.responder.ok());
    }
    if (name == "outport") {
      if (!reading) {
        const auto port = str_arg(call.command, 1);
        if (!port || (*port != "none" && *port != "usbnmea" && *port != "uartnmea") ||
            call.command.args.size() > 2)
          return void(call.responder.error());
        gnss.set_outport(*port);
      } else {
        call.responder.info("+QGPSCFG: \"outport\"," + sim::quoted(gnss.outport()));
      }
      return void(call.responder.ok());
    }
    call.responder.error();  // a setting this simulation does not have
  };
  (void)registry.add("+QGPSCFG", std::move(cfg));

  at::CommandSpec gnmea;
  gnmea.gate_tag = kNeedsRdy;
  gnmea.write = [&gnss](at::Call& call) {
    const auto type = str_arg(call.command, 0);
    if (!type || call.command.args.size() != 1) return void(call.responder.error());
    if (!gnss.nmea_by_at()) return void(call.responder.cme_error(3));  // not allowed
    if (!gnss.on()) return void(call.responder.cme_error(kSessionNotActive));
    std::string upper = *type;
    for (char& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto sentences = nmea_sentences(upper, gnss.fix());
    if (sentences.empty()) return void(call.responder.error());
    for (const auto& sentence : sentences)
      call.responder.info("+QGPSGNMEA: " + sentence);
    call.responder.ok();
  };
  (void)registry.add("+QGPSGNMEA", std::move(gnmea));
}

}  // namespace

void register_gnss_commands(at::Registry& registry, GnssReceiver& gnss) {
  register_qgps(registry, gnss);
  register_qgpsloc(registry, gnss);
  register_nmea(registry, gnss);
}

}  // namespace vmodem::sim
