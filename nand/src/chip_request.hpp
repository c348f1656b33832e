// A program request: up to two byte ranges of the raw page (main, spare).
#pragma once

#include <array>
#include <span>

#include <vmodem/nand/chip.hpp>

namespace vmodem::nand {

struct ProgramSegment {
  std::uint32_t column = 0;  // offset in the raw page
  std::span<const std::uint8_t> bytes;
};

struct SimulatedChip::Request {
  PageAddr addr;
  std::array<ProgramSegment, 2> segs{};
  std::uint8_t count = 0;
  bool partial = false;

  static Request full(PageAddr addr, std::span<const std::uint8_t> main,
                      std::span<const std::uint8_t> spare, const Geometry& g) {
    Request r;
    r.addr = addr;
    if (!main.empty()) r.segs[r.count++] = {0, main};
    if (!spare.empty()) r.segs[r.count++] = {g.page_size, spare};
    return r;
  }
  static Request partial_at(PageAddr addr, std::uint32_t column,
                            std::span<const std::uint8_t> bytes) {
    Request r;
    r.addr = addr;
    r.partial = true;
    r.segs[r.count++] = {column, bytes};
    return r;
  }
  std::span<const ProgramSegment> segments() const { return {segs.data(), count}; }
  bool fits(const Geometry& g) const {
    for (const auto& s : segments()) {
      if (s.column > g.raw_page_size() || s.bytes.size() > g.raw_page_size() - s.column) {
        return false;
      }
    }
    return true;
  }
  std::size_t byte_count() const {
    std::size_t n = 0;
    for (const auto& s : segments())
      n += s.bytes.size();
    return n;
  }
};

}  // namespace vmodem::nand
