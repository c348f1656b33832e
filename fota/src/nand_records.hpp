// Small helpers shared by the firmware store and the FOTA area: NAND errors
// as fota errors, checksummed records, and "sealed" record blocks.
//
// A sealed record is written as two pages of one freshly erased block: page
// 0 the record, page 1 a seal of zeros. The record counts only when the seal
// page is not erased. Why: a power cut can tear the page being programmed,
// and a torn page may read back differently from one read to the next. The
// seal is programmed only after the record page completed, so whenever the
// seal is present the record page is stable; a torn seal (some zeros) still
// proves the record page was complete. A cut before or inside the record
// page leaves the seal erased: the record does not count, always.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <vmodem/fota/error.hpp>
#include <vmodem/nand/device.hpp>

namespace vmodem::fota::detail {

using Bytes = std::vector<std::uint8_t>;

// kAborted with the NAND error as the message ("<what>: block 3 page 0: ...").
tl::unexpected<Error> nand_failure(std::string_view what, const nand::Error& error);

// Checked record: magic(4) | u32 body length | body | first 8 bytes of the
// SHA-256 of everything before them.
Bytes seal_record(std::string_view magic, std::span<const std::uint8_t> body);
// The body, or nullopt if `page` does not start with a valid record of `magic`.
std::optional<Bytes> open_record(std::string_view magic, std::span<const std::uint8_t> page);

// Erases `block` and writes `record` (at most one page) + the seal page.
Status write_sealed(nand::Device& device, std::uint32_t block, std::span<const std::uint8_t> record,
                    std::string_view what);
// Page 0 of a sealed block, or nullopt if the block holds no sealed record
// (read errors of the record page count as "no record"). Errors only for
// power loss.
Result<std::optional<Bytes>> read_sealed(nand::Device& device, std::uint32_t block);

// True if every byte is 0xFF.
bool all_erased(std::span<const std::uint8_t> data);

// Programs `data` (at most a page; padded with 0xFF) at `addr`.
Status program_page(nand::Device& device, nand::PageAddr addr, std::span<const std::uint8_t> data,
                    std::string_view what);

}  // namespace vmodem::fota::detail
