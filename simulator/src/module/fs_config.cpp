#include "module/fs_config.hpp"

namespace vmodem::sim {

fs::Config fs_config(const Profile& profile) {
  fs::Config config;
  // Scrub a page before its worst sector runs out of ECC headroom.
  config.scrub_threshold_bits =
      profile.chip.ecc.strength_bits > 1 ? profile.chip.ecc.strength_bits - 1 : 1;
  return config;
}

}  // namespace vmodem::sim
