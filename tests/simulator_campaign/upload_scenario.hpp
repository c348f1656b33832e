// The scenario the campaign tests share: a settings file uploaded in the
// setup, then a certificate uploaded and AT+QPRTPARA=11 as the action, the
// settings file checked after each power-up (a BG95-M3, seeded).
#pragma once

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "campaign/scenario.hpp"
#include "test_seed.hpp"

namespace vmodem::sim::campaign {

// In the given power-loss mode, cutting a seeded sample of `sample`
// operations (0: all) in `modes` (empty: the scenario's default).
inline Scenario upload_then_backup(bool safe, std::uint32_t sample,
                                   const std::vector<nand::CutMode>& modes = {}) {
  auto s = parse_scenario(R"({
    "setup": [{"send": "AT+QFUPL=\"device.cfg\",{size}", "data": "apn=internet\n"}],
    "action": [{"send": "AT+QFUPL=\"cert.pem\",{size}",
                "data": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"},
               {"send": "AT+QPRTPARA=11", "timeout_ms": 4000}],
    "checks": [{"send": "AT+QFLST=\"device.cfg\"", "expect": "+QFLST: \"device.cfg\",13"}]})",
                          "inline.json");
  EXPECT_TRUE(s) << s.error().describe();
  s->safe_power_loss = safe;
  s->cuts.sample = sample;
  if (!modes.empty()) s->cuts.modes = modes;
  s->seed = vmodem::testing::test_seed(15);
  return *s;
}

}  // namespace vmodem::sim::campaign
