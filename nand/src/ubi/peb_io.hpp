// Byte-addressed reads inside one PEB, over a page-addressed device: what
// UBI's I/O layer does with column reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <vmodem/nand/device.hpp>
#include <vmodem/nand/ubi/media.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>

namespace vmodem::nand::ubi {

// The errors of the UBI layer, with the prefix every UBI message carries:
// a request outside the volumes, and headers that make no usable device.
inline tl::unexpected<Error> refuse(std::string detail) {
  return fail(Errc::invalid_argument, -1, -1, "UBI: " + std::move(detail));
}
inline tl::unexpected<Error> corrupt_image(std::int64_t peb, std::string detail) {
  return fail(Errc::bad_image, peb, -1, "UBI: " + std::move(detail));
}

class PebIo {
 public:
  explicit PebIo(Device& mtd) : mtd_(mtd) {}

  // Reads out.size() bytes at `offset` of block `peb`; `flips` is set when
  // ECC corrected bits on the way. The device's errors as is.
  Status read(std::uint32_t peb, std::uint32_t offset, std::span<std::uint8_t> out, bool& flips);

  // Reads and decodes the header at `offset`. An uncorrectable read is not an
  // error: the header is then as good as torn (bad_crc).
  template <class Header>
  Result<HeaderState> read_header(std::uint32_t peb, std::uint32_t offset, Header& out,
                                  bool& flips) {
    std::uint8_t bytes[kHeaderSize];
    auto read = this->read(peb, offset, bytes, flips);
    if (!read) {
      if (read.error().code == Errc::uncorrectable) return HeaderState::bad_crc;
      return tl::unexpected(read.error());
    }
    return decode(std::span<const std::uint8_t>(bytes), out);
  }

  // Whether the data_size bytes of data in `peb` match vid.data_crc (an
  // uncorrectable read counts as no).
  Result<bool> data_intact(const Layout& layout, std::uint32_t peb, const VidHeader& vid);

 private:
  Device& mtd_;
};

}  // namespace vmodem::nand::ubi
