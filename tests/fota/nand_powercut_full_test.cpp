// Full tier: a power cut at every NAND operation of the boot-time update,
// in each cut mode.
#include "nand_powercut.hpp"

namespace vmodem::fota::testing {
namespace {

TEST(FotaPowerCutFull, EveryOperationEndsOnTheOldOrNewFirmware) {
  run_cut_campaigns(0);
}

}  // namespace
}  // namespace vmodem::fota::testing
