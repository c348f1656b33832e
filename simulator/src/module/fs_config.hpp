// The file-system limits a profile implies, shared by the running module and
// the offline tools so both mount a partition the same way.
#pragma once

#include <vmodem/fs/config.hpp>
#include <vmodem/fs/factory.hpp>
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

fs::Config fs_config(const Profile& profile);

// The factory files of the file system with `role` (modem_fs or ap_fs): the
// profile's directory tree when it names one, else content generated from
// `seed`. An error message when the directory cannot be read.
tl::expected<std::vector<fs::FactoryFile>, std::string> factory_files(const Profile& profile,
                                                                      PartitionRole role,
                                                                      std::uint64_t seed);

}  // namespace vmodem::sim
