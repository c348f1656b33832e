// The "family" and "file_systems" sections of a profile (profile.hpp):
// parsed, or derived from the partition roles for profiles written before
// the section existed, and checked against the partition table and the
// family's guardians.
#pragma once

#include <filesystem>
#include <string>

#include <vmodem/simulator/profile.hpp>

#include "json_reader.hpp"

namespace vmodem::sim {

// The factory directory in field `key` (relative to `base`), checked to be
// a directory; "" when the field is absent or refused (the error recorded).
std::string read_factory_dir(JsonReader& in, const std::string& key,
                             const std::filesystem::path& base);

// Reads "family" (absent: bg95). A family this build cannot run yet is
// refused with a message that says so.
void read_family(JsonReader& root, Profile& p);

// Reads "file_systems" into p.file_systems, or derives it from the partition
// roles; needs p.partitions and p.factory. `base` resolves relative factory
// directories (empty for built-in profiles).
void read_file_systems(JsonReader& root, Profile& p, const std::filesystem::path& base);

}  // namespace vmodem::sim
