// The NAND device interface every layer above talks to.
//
// Implemented by the simulated chip, by the fault injector that decorates it,
// and by Partition (a window of blocks). A caller sees the same contract at
// every level, like a driver over a real controller.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <vmodem/nand/geometry.hpp>
#include <vmodem/nand/status.hpp>

namespace vmodem::nand {

// What the ECC engine said about a successful read.
struct ReadInfo {
  std::uint16_t corrected_bits = 0;       // bits corrected across all sectors
  std::uint8_t max_sector_corrected = 0;  // worst sector (compare with the ECC strength)
  bool corrected() const { return corrected_bits != 0; }
};

enum class OpKind : std::uint8_t { read = 0, program = 1, erase = 2 };

class Device {
 public:
  virtual ~Device() = default;

  virtual const Geometry& geometry() const = 0;

  // Reads one page. `main` empty (not transferred) or at most page_size
  // bytes: the first main.size() bytes of the page (a column read, as a
  // controller does for a small header; ECC still checks every sector, and
  // only the bytes moved cost transfer time). `spare` empty or spare_size.
  // Returns ReadInfo when every sector was clean or corrected; the buffers then
  // hold the data as programmed. Errors: power_loss (buffers untouched),
  // uncorrectable (buffers hold the raw, damaged bits), out_of_range,
  // invalid_argument.
  virtual Result<ReadInfo> read(PageAddr addr, std::span<std::uint8_t> main,
                                std::span<std::uint8_t> spare) = 0;

  // Reads out.size() bytes of the main area from `column` (the NAND
  // "random data output": column + out.size() <= page_size). The same
  // operation as read() for counting, faults and cuts, and the same ECC
  // verdict (every sector checked); only the bytes moved cost transfer
  // time. What UBI reads where a header or the in-band tags of a volume
  // page sit. By default a read() of the page up to the last byte wanted.
  virtual Result<ReadInfo> read_column(PageAddr addr, std::uint32_t column,
                                       std::span<std::uint8_t> out);

  // Programs one page: cells become old & data. `main` empty or page_size,
  // `spare` empty or spare_size; an empty area is programmed as all 0xFF
  // (left unchanged). Pages of a block must be programmed in ascending order;
  // a page may be programmed again (partial program) up to NOP times.
  // Refused with nothing changed: order_violation, nop_exceeded,
  // cannot_set_bits (a 1 requested where the page already holds 0),
  // out_of_range, invalid_argument, power_loss.
  // program_fail: the chip reported FAIL; the page content is undefined and
  // the block must be retired.
  virtual Status program(PageAddr addr, std::span<const std::uint8_t> main,
                         std::span<const std::uint8_t> spare) = 0;

  // Programs `bytes` at `column` of the raw page (main area then spare area,
  // column < page_size + spare_size): the NAND "random data input" used for
  // partial page programs such as flipping a flag byte in the spare area.
  // Bytes outside the range are left unchanged. Same rules and errors as
  // program().
  virtual Status program_partial(PageAddr addr, std::uint32_t column,
                                 std::span<const std::uint8_t> bytes) = 0;

  // Erases a block: every bit of every page back to 1, partial-program counts
  // reset. Errors: erase_fail (block now bad), out_of_range, power_loss.
  virtual Status erase(std::uint32_t block) = 0;

  // Reads the bad-block marker of `block` (one page read). True when marked bad.
  virtual Result<bool> is_bad(std::uint32_t block) = 0;

  // Writes the bad-block marker of `block` (one partial program of page 0's
  // spare, allowed whatever the block holds). Used by software that retires a
  // block after program_fail / erase_fail.
  virtual Status mark_bad(std::uint32_t block) = 0;
};

inline Result<ReadInfo> Device::read_column(PageAddr addr, std::uint32_t column,
                                            std::span<std::uint8_t> out) {
  if (column > geometry().page_size || out.size() > geometry().page_size - column)
    return fail(Errc::invalid_argument, addr.block, addr.page, "column read past the main area");
  std::vector<std::uint8_t> page(column + out.size());
  auto info = read(addr, page, {});
  if (info || info.error().code == Errc::uncorrectable)
    std::copy_n(page.begin() + column, out.size(), out.begin());
  return info;
}

}  // namespace vmodem::nand
