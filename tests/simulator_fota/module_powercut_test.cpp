// Quick tier: a seeded sample of power cuts (operation and cut mode drawn
// from VMODEM_TEST_SEED) during the boot-time update of a real Module.
#include "module_powercut.hpp"

namespace vmodem::sim::testing {
namespace {

TEST(ModuleFotaPowerCut, SampledCutsBootTheOldOrNewFirmwareAndSaySo) {
  run_module_cut_campaign(16);  // per cut mode: 64 cuts
}

}  // namespace
}  // namespace vmodem::sim::testing
