// Profiles are user-written JSON: any bytes must give a Profile or a
// ProfileError naming a field, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <vmodem/simulator/profile.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto profile = vmodem::sim::parse_profile(text, "fuzz.json");
  if (profile) {
    // A profile that loads must describe a usable chip and partition table.
    (void)profile->partition_table();
  } else {
    (void)profile.error().describe();
  }
  return 0;
}
