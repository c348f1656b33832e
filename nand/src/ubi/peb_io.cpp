#include "ubi/peb_io.hpp"

#include <algorithm>
#include <cstring>

namespace vmodem::nand::ubi {

Status PebIo::read(std::uint32_t peb, std::uint32_t offset, std::span<std::uint8_t> out,
                   bool& flips) {
  const std::uint32_t page_size = mtd_.geometry().page_size;
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint32_t at = offset + static_cast<std::uint32_t>(done);
    const std::uint32_t page = at / page_size;
    const std::uint32_t column = at % page_size;
    const std::size_t take = std::min<std::size_t>(out.size() - done, page_size - column);
    // A column read moves only the bytes wanted, into `out` itself.
    auto info = mtd_.read_column({peb, page}, column, out.subspan(done, take));
    if (!info) return tl::unexpected(info.error());
    flips = flips || info->corrected();
    done += take;
  }
  return {};
}

Result<bool> PebIo::data_intact(const Layout& layout, std::uint32_t peb, const VidHeader& vid) {
  if (vid.data_size > layout.leb_size) return false;
  std::vector<std::uint8_t> data(vid.data_size);
  bool flips = false;
  auto read = this->read(peb, layout.data_offset, data, flips);
  if (!read) {
    if (read.error().code == Errc::uncorrectable) return false;
    return tl::unexpected(read.error());
  }
  return crc32(data) == vid.data_crc;
}

}  // namespace vmodem::nand::ubi
