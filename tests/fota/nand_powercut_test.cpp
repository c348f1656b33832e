// Quick tier: a seeded sample of power cuts during the boot-time update.
#include "nand_powercut.hpp"

namespace vmodem::fota::testing {
namespace {

TEST(FotaPowerCut, SampledCutsEndOnTheOldOrNewFirmware) {
  run_cut_campaigns(48);
}

}  // namespace
}  // namespace vmodem::fota::testing
