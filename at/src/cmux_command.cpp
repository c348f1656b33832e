// AT+CMUX (27.007 §5.7): the command that hands the port to the multiplexer.

#include <array>
#include <cstdint>
#include <string>

#include <vmodem/at/cmux.hpp>

namespace vmodem::at {

namespace {

struct Range {
  int CmuxParams::*field;
  std::int64_t low;
  std::int64_t high;
};

// In parameter order. <mode> and <subset> accept only 0 (basic option, UIH
// frames); the timers are kept for the read form (nothing is retransmitted
// over a PTY).
constexpr std::array<Range, 9> kRanges{{
    {&CmuxParams::mode, 0, 0},
    {&CmuxParams::subset, 0, 0},
    {&CmuxParams::port_speed, 1, 6},
    {&CmuxParams::n1, 1, 32767},
    {&CmuxParams::t1, 1, 255},
    {&CmuxParams::n2, 0, 100},
    {&CmuxParams::t2, 2, 255},
    {&CmuxParams::t3, 1, 255},
    {&CmuxParams::k, 1, 7},
}};

std::string format(const CmuxParams& p) {
  return "+CMUX: " + std::to_string(p.mode) + "," + std::to_string(p.subset) + "," +
         std::to_string(p.port_speed) + "," + std::to_string(p.n1) + "," + std::to_string(p.t1) +
         "," + std::to_string(p.n2) + "," + std::to_string(p.t2) + "," + std::to_string(p.t3) +
         "," + std::to_string(p.k);
}

}  // namespace

void install_cmux_command(Registry& registry) {
  CommandSpec spec;
  spec.test = [](Call& call) {
    call.responder.info("+CMUX: (0),(0),(1-6),(1-32767),(1-255),(0-100),(2-255),(1-255),(1-7)");
    call.responder.ok();
  };
  spec.read = [](Call& call) {
    call.responder.info(format(call.responder.mux_params().value_or(CmuxParams{})));
    call.responder.ok();
  };
  spec.write = [](Call& call) {
    const auto& args = call.command.args;
    if (args.size() > kRanges.size() || call.command.arg(0).is_omitted()) {
      call.responder.error();
      return;
    }
    CmuxParams params;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const Argument& arg = args[i];
      if (arg.is_omitted()) continue;  // the default
      const auto value = arg.as_integer();
      const Range& range = kRanges.at(i);
      if (!value) {
        call.responder.error();
        return;
      }
      if (*value < range.low || *value > range.high) {
        // A mode or subset the module does not have: 27.007 "operation not
        // supported"; any other value out of range: "incorrect parameters".
        call.responder.cme_error(i < 2 ? 4 : 50);
        return;
      }
      params.*range.field = static_cast<int>(*value);
    }
    if (!call.responder.start_mux(params)) {
      call.responder.error();
      return;
    }
    call.responder.ok();
  };
  (void)registry.add("+CMUX", std::move(spec));
}

}  // namespace vmodem::at
