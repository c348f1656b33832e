// Full tier: a power cut at every NAND operation of the boot-time update of
// a real Module, in every cut mode, with the tally printed.
#include "module_powercut.hpp"

namespace vmodem::sim::testing {
namespace {

TEST(ModuleFotaPowerCut, EveryOperationEveryModeBootsTheOldOrNewFirmware) {
  run_module_cut_campaign(0);
}

}  // namespace
}  // namespace vmodem::sim::testing
