// What host stacks poll at start-up (27.007 and Quectel): the activity
// status (+CPAS), the clock (+CCLK, +QLTS), the supply (+CBC), extended
// signal quality (+CESQ), flow control (+IFC), packet-domain event
// reporting (+CGEREP) and hang-up (ATH).
//
// The clock is this machine's UTC plus what AT+CCLK set (an offset kept until
// the next boot, as a module without a backup battery does); the time zone
// is UTC (+00). The supply is a steady 3.8 V.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"

namespace vmodem::sim {

namespace {

constexpr int kSupplyMillivolts = 3800, kChargePercent = 100;

// The module's time: the host's clock plus the AT+CCLK offset.
std::tm module_time(const RuntimeState& radio) {
  const auto now = std::chrono::system_clock::now() + radio.clock_offset;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm out{};
  gmtime_r(&t, &out);
  return out;
}

std::string formatted(const std::tm& tm, const char* pattern) {
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, pattern, &tm);
  return std::string(text, n);
}

// "yy/MM/dd,hh:mm:ss+zz" (27.007 +CCLK); nullopt when it is not that.
std::optional<std::tm> parse_cclk(const std::string& text) {
  std::tm tm{};
  int zone = 0;
  char sign = '+';
  if (text.size() != 20 ||
      std::sscanf(text.c_str(), "%2d/%2d/%2d,%2d:%2d:%2d%c%2d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &zone) != 8 ||
      (sign != '+' && sign != '-') || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
      tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59 || zone > 96)
    return std::nullopt;
  tm.tm_year += 100;  // 20yy
  tm.tm_mon -= 1;
  return tm;
}

void register_clock(at::Registry& registry, RuntimeState& radio) {
  at::CommandSpec cclk;
  cclk.read = [&radio](at::Call& call) {
    call.responder.info("+CCLK: \"" + formatted(module_time(radio), "%y/%m/%d,%H:%M:%S") + "+00\"");
    call.responder.ok();
  };
  cclk.write = [&radio](at::Call& call) {
    const auto text = str_arg(call.command, 0);
    auto tm = text ? parse_cclk(*text) : std::nullopt;
    if (!tm || call.command.args.size() != 1) return void(call.responder.error());
    const auto wanted = std::chrono::system_clock::from_time_t(timegm(&*tm));
    radio.clock_offset = wanted - std::chrono::system_clock::now();  // keeps the fraction
    call.responder.ok();
  };
  cclk.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CCLK", std::move(cclk));

  // The network's time as last synchronised: here, the module's clock.
  at::CommandSpec qlts;
  qlts.gate_tag = kNeedsRdy;
  auto network_time = [&radio](at::Call& call) {
    const bool registered = radio.registered();
    call.responder.info(
        registered ? "+QLTS: \"" + formatted(module_time(radio), "%Y/%m/%d,%H:%M:%S") + "+00,0\""
                   : "+QLTS: \"\"");
    call.responder.ok();
  };
  qlts.execute = network_time;
  qlts.write = [network_time](at::Call& call) {
    if (!int_arg(call.command, 0, 0, 2)) return void(call.responder.error());
    network_time(call);
  };
  qlts.test = [](at::Call& call) {
    call.responder.info("+QLTS: (0-2)");
    call.responder.ok();
  };
  (void)registry.add("+QLTS", std::move(qlts));
}

// A command whose read form prints its two numbers and whose write form
// takes values `valid` accepts, kept until the next boot (+IFC, +CGEREP).
at::CommandSpec settable_pair(std::string prefix, std::array<int, 2>& value,
                              bool (*valid)(std::int64_t, std::int64_t), std::string ranges) {
  at::CommandSpec spec;
  spec.read = [prefix, &value](at::Call& call) {
    call.responder.info(prefix + ": " + std::to_string(value[0]) + "," + std::to_string(value[1]));
    call.responder.ok();
  };
  spec.write = [&value, valid](at::Call& call) {
    const auto first = int_arg(call.command, 0, 0, 9);
    const auto second = call.command.arg(1).is_omitted() ? std::optional<std::int64_t>(value[1])
                                                         : int_arg(call.command, 1, 0, 9);
    if (!first || !second || call.command.args.size() > 2 || !valid(*first, *second))
      return void(call.responder.error());
    value = {static_cast<int>(*first), static_cast<int>(*second)};
    call.responder.ok();
  };
  spec.test = [prefix, ranges](at::Call& call) {
    call.responder.info(prefix + ": " + ranges);
    call.responder.ok();
  };
  return spec;
}

}  // namespace

void register_status_commands(at::Registry& registry, const NetworkConfig& network,
                              RuntimeState& radio) {
  at::CommandSpec cpas;  // 0: ready (the module never rings or calls)
  cpas.execute = [](at::Call& call) {
    call.responder.info("+CPAS: 0");
    call.responder.ok();
  };
  cpas.test = [](at::Call& call) {
    call.responder.info("+CPAS: (0-5)");
    call.responder.ok();
  };
  (void)registry.add("+CPAS", std::move(cpas));

  at::CommandSpec cbc;
  cbc.execute = [](at::Call& call) {
    call.responder.info("+CBC: 0," + std::to_string(kChargePercent) + "," +
                        std::to_string(kSupplyMillivolts));
    call.responder.ok();
  };
  (void)registry.add("+CBC", std::move(cbc));

  // LTE only: no GSM/UMTS fields; RSRQ and RSRP from the profile's RSSI.
  at::CommandSpec cesq;
  cesq.gate_tag = kNeedsRdy;
  cesq.execute = [&network, &radio](at::Call& call) {
    if (!radio.registered()) {
      call.responder.info("+CESQ: 99,99,255,255,255,255");
    } else {
      const int rsrp = std::clamp(static_cast<int>(network.rssi) * 3, 0, 97);  // 0-97
      call.responder.info("+CESQ: 99,99,255,255,20," + std::to_string(rsrp));
    }
    call.responder.ok();
  };
  cesq.test = [](at::Call& call) {
    call.responder.info("+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)");
    call.responder.ok();
  };
  (void)registry.add("+CESQ", std::move(cesq));

  register_clock(registry, radio);
  // +IFC: 0 none or 2 RTS/CTS, each way. +CGEREP: mode 0-2, buffer 0-1.
  (void)registry.add("+IFC", settable_pair(
                                 "+IFC", radio.ifc,
                                 [](std::int64_t a, std::int64_t b) {
                                   return (a == 0 || a == 2) && (b == 0 || b == 2);
                                 },
                                 "(0,2),(0,2)"));
  (void)registry.add("+CGEREP", settable_pair(
                                    "+CGEREP", radio.cgerep,
                                    [](std::int64_t mode, std::int64_t buffer) {
                                      return mode <= 2 && buffer <= 1;
                                    },
                                    "(0-2),(0,1)"));

  at::CommandSpec hang_up;  // no call to end: OK
  hang_up.execute = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("H", std::move(hang_up));
}

}  // namespace vmodem::sim
