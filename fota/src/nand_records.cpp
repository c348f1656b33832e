#include "nand_records.hpp"

#include <algorithm>
#include <string>

#include <vmodem/fota/digest.hpp>

#include "byte_io.hpp"

namespace vmodem::fota::detail {

tl::unexpected<Error> nand_failure(std::string_view what, const nand::Error& error) {
  const ErrorCode code =
      error.code == nand::Errc::power_loss ? ErrorCode::kPowerLoss : ErrorCode::kAborted;
  return fail(code, std::string(what) + ": " + error.message());
}

Bytes seal_record(std::string_view magic, std::span<const std::uint8_t> body) {
  Bytes out(magic.begin(), magic.end());
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  put_bytes(out, body);
  const Digest check = sha256(out);
  out.insert(out.end(), check.begin(), check.begin() + 8);
  return out;
}

std::optional<Bytes> open_record(std::string_view magic, std::span<const std::uint8_t> page) {
  if (page.size() < 16 || !std::equal(magic.begin(), magic.end(), page.begin())) {
    return std::nullopt;
  }
  Reader r(page.subspan(4));
  const std::uint64_t length = r.u32();
  if (length > page.size() - 16) return std::nullopt;
  const auto covered = page.first(8 + length);
  const Digest check = sha256(covered);
  if (!std::equal(check.begin(), check.begin() + 8, page.begin() + 8 + length)) {
    return std::nullopt;
  }
  return Bytes(page.begin() + 8, page.begin() + 8 + length);
}

bool all_erased(std::span<const std::uint8_t> data) {
  return std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0xFF; });
}

Status program_page(nand::Device& device, nand::PageAddr addr, std::span<const std::uint8_t> data,
                    std::string_view what) {
  const std::uint32_t page_size = device.geometry().page_size;
  if (data.size() > page_size) return fail(ErrorCode::kInvalidInput, "record larger than a page");
  std::span<const std::uint8_t> main = data;
  Bytes padded;
  if (data.size() != page_size) {
    padded.assign(page_size, 0xFF);
    std::copy(data.begin(), data.end(), padded.begin());
    main = padded;
  }
  if (auto st = device.program(addr, main, {}); !st) return nand_failure(what, st.error());
  return {};
}

Status write_sealed(nand::Device& device, std::uint32_t block, std::span<const std::uint8_t> record,
                    std::string_view what) {
  if (auto st = device.erase(block); !st) return nand_failure(what, st.error());
  if (auto st = program_page(device, {block, 0}, record, what); !st) return st;
  const Bytes seal(device.geometry().page_size, 0x00);
  return program_page(device, {block, 1}, seal, what);
}

Result<std::optional<Bytes>> read_sealed(nand::Device& device, std::uint32_t block) {
  const std::uint32_t page_size = device.geometry().page_size;
  Bytes seal(page_size);
  auto sealed = device.read({block, 1}, seal, {});
  if (!sealed) {
    if (sealed.error().code == nand::Errc::power_loss) return nand_failure("read", sealed.error());
    // An unreadable seal page was programmed (torn): the record page is complete.
  } else if (all_erased(seal)) {
    return std::optional<Bytes>{};
  }
  Bytes record(page_size);
  auto read = device.read({block, 0}, record, {});
  if (!read) {
    if (read.error().code == nand::Errc::power_loss) return nand_failure("read", read.error());
    return std::optional<Bytes>{};
  }
  return std::optional<Bytes>{std::move(record)};
}

}  // namespace vmodem::fota::detail
