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
    // A column read moves only the bytes up to the last one wanted. From
    // the start of a page it lands in `out` itself (every read of whole
    // pages, the file system's); only a read from mid-page needs a bounce.
    const bool direct = column == 0;
    if (!direct && page_.empty()) page_.resize(page_size);
    auto window = direct ? out.subspan(done, take) : std::span(page_).first(column + take);
    auto info = mtd_.read({peb, page}, window, {});
    if (!info) return tl::unexpected(info.error());
    flips = flips || info->corrected();
    if (!direct) std::memcpy(out.data() + done, window.data() + column, take);
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
