// The fixed "current firmware" every fuzz input is applied to, shared by the
// fuzzer and the seed maker so seeds are valid packages for it.
#pragma once

#include <cstdint>
#include <vector>

#include <vmodem/fota/bundle.hpp>

namespace vmodem::fota::fuzz {

// A 2 KiB image, half structured (looks like code/tables), half LCG noise.
inline FirmwareBundle source_firmware() {
  std::vector<std::uint8_t> data(2048);
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < data.size(); ++i) {
    x = x * 1103515245u + 12345u;
    data[i] = i < 1024 ? static_cast<std::uint8_t>((i * 7) ^ (i >> 3))
                       : static_cast<std::uint8_t>(x >> 24);
  }
  FirmwareBundle fw;
  fw.model = "FUZZ";
  fw.version = "1.0";
  fw.images.push_back({"firmware", std::move(data)});
  return fw;
}

// Recomputes payload and header digests so mutations reach the deep checks.
void reseal(std::vector<std::uint8_t>& package);

}  // namespace vmodem::fota::fuzz
