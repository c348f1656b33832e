// The file-system limits a profile implies, shared by the running module and
// the offline tools so both mount a partition the same way.
#pragma once

#include <vmodem/fs/config.hpp>
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

fs::Config fs_config(const Profile& profile);

}  // namespace vmodem::sim
