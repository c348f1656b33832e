// The CRC-32 of critical files (zlib's: IEEE, reflected), by ISA-L, whose
// folding with carry-less multiplies (AVX-512 where the CPU has it) runs
// many times faster than zlib 1.2's tables. It matters: every boot checks the
// modem file system's RF calibration (84 KB) and the AP's USB configuration.
#include <isa-l/crc.h>

#include <vmodem/fs/filesystem.hpp>

#include "volume.hpp"

namespace vmodem::fs {

std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::uint8_t> data) {
  // crc32_gzip_refl continues a running CRC exactly as zlib's crc32() does.
  return crc32_gzip_refl(crc, data.data(), data.size());
}

std::uint32_t crc32(std::span<const std::uint8_t> data) {
  return crc32_update(0, data);
}

}  // namespace vmodem::fs
