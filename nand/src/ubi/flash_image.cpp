// Writing a ubinize image onto a partition, as mtd-utils' ubiformat does.
#include <algorithm>
#include <string>
#include <vector>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "ubi/peb_io.hpp"

namespace vmodem::nand::ubi {
namespace {

tl::unexpected<Error> refuse_image(std::string detail) {
  return fail(Errc::invalid_argument, -1, -1, "UBI image: " + std::move(detail));
}

// Every PEB of the image must carry an EC header that checks: that is what
// makes it a ubinize image and not some other file.
Result<EcHeader> first_header(const Geometry& g, std::span<const std::uint8_t> image) {
  const std::uint32_t peb_size = g.pages_per_block * g.page_size;
  if (image.empty() || image.size() % peb_size != 0) {
    return refuse_image(std::to_string(image.size()) + " bytes is not a whole number of " +
                        std::to_string(peb_size) + "-byte eraseblocks");
  }
  EcHeader first;
  for (std::size_t at = 0; at < image.size(); at += peb_size) {
    EcHeader ec;
    const HeaderState state = decode(image.subspan(at), ec);
    if (state != HeaderState::valid) {
      return refuse_image("eraseblock " + std::to_string(at / peb_size) + ": EC header " +
                          to_string(state));
    }
    if (at == 0) first = ec;
    if (ec.vid_hdr_offset != first.vid_hdr_offset || ec.data_offset != first.data_offset)
      return refuse_image("eraseblocks disagree on the header offsets");
  }
  if (first.data_offset % g.page_size != 0 || first.data_offset >= peb_size) {
    return refuse_image("data offset " + std::to_string(first.data_offset) + " does not suit " +
                        std::to_string(g.page_size) + "-byte pages");
  }
  return first;
}

// Each block's erase counter before the format (nullopt where it is lost or
// the block is bad), and the mean of the known ones.
struct OldCounters {
  std::vector<std::optional<std::uint64_t>> counts;
  std::vector<bool> bad;
  std::uint64_t mean = 0;
};

Result<OldCounters> read_counters(Device& mtd) {
  const std::uint32_t blocks = mtd.geometry().block_count;
  OldCounters old{.counts = std::vector<std::optional<std::uint64_t>>(blocks),
                  .bad = std::vector<bool>(blocks),
                  .mean = 0};
  PebIo io(mtd);
  std::uint64_t sum = 0;
  std::uint64_t known = 0;
  for (std::uint32_t block = 0; block < blocks; ++block) {
    auto bad = mtd.is_bad(block);
    if (!bad) return tl::unexpected(bad.error());
    old.bad[block] = *bad;
    if (*bad) continue;
    EcHeader ec;
    bool flips = false;
    auto state = io.read_header(block, 0, ec, flips);
    if (!state) return tl::unexpected(state.error());
    if (*state != HeaderState::valid) continue;
    old.counts[block] = ec.erase_count;
    sum += ec.erase_count;
    ++known;
  }
  old.mean = known ? sum / known : 0;
  return old;
}

// The pages to program for one PEB: its bytes with the EC header's counter
// replaced, up to the last page that is not all 0xFF.
std::vector<std::uint8_t> peb_with_counter(std::span<const std::uint8_t> peb, EcHeader ec,
                                           std::uint64_t erase_count) {
  std::vector<std::uint8_t> bytes(peb.begin(), peb.end());
  ec.erase_count = erase_count;
  encode(ec, std::span<std::uint8_t, kHeaderSize>(bytes.data(), kHeaderSize));
  return bytes;
}

std::uint32_t pages_to_program(std::span<const std::uint8_t> peb, std::uint32_t page_size) {
  std::uint32_t pages = static_cast<std::uint32_t>(peb.size() / page_size);
  while (pages > 0) {
    const auto page = peb.subspan(std::size_t{pages - 1} * page_size, page_size);
    if (!std::all_of(page.begin(), page.end(), [](std::uint8_t b) { return b == 0xFF; })) break;
    --pages;
  }
  return pages;
}

// Erases `block` and programs `bytes` into it. False (and the block marked
// bad) when the chip failed the erase or a program.
Result<bool> write_block(Device& mtd, std::uint32_t block, std::span<const std::uint8_t> bytes,
                         FlashReport& report) {
  const std::uint32_t page_size = mtd.geometry().page_size;
  auto failed = [&](const Error& error) -> Result<bool> {
    if (error.code != Errc::erase_fail && error.code != Errc::program_fail)
      return tl::unexpected(error);
    if (auto marked = mtd.mark_bad(block); !marked) return tl::unexpected(marked.error());
    return false;
  };
  if (auto erased = mtd.erase(block); !erased) return failed(erased.error());
  const std::uint32_t pages = pages_to_program(bytes, page_size);
  for (std::uint32_t page = 0; page < pages; ++page) {
    auto programmed =
        mtd.program({block, page}, bytes.subspan(std::size_t{page} * page_size, page_size), {});
    if (!programmed) return failed(programmed.error());
    ++report.pages_written;
  }
  return true;
}

}  // namespace

Status check_image(const Geometry& g, std::span<const std::uint8_t> image) {
  auto header = first_header(g, image);
  if (!header) return tl::unexpected(header.error());
  if (image.size() / (std::uint64_t{g.pages_per_block} * g.page_size) > g.block_count)
    return refuse_image("the image's eraseblocks outnumber the partition's blocks");
  return {};
}

Result<FlashReport> flash_image(Device& mtd, std::span<const std::uint8_t> image) {
  const Geometry& g = mtd.geometry();
  const std::uint32_t peb_size = g.pages_per_block * g.page_size;
  auto header = first_header(g, image);
  if (!header) return tl::unexpected(header.error());
  auto old = read_counters(mtd);
  if (!old) return tl::unexpected(old.error());
  const std::uint32_t image_pebs = static_cast<std::uint32_t>(image.size() / peb_size);
  const auto good = static_cast<std::uint32_t>(std::count(old->bad.begin(), old->bad.end(), false));
  if (image_pebs > good) {
    return refuse_image(std::to_string(image_pebs) + " eraseblocks do not fit the partition's " +
                        std::to_string(good) + " good blocks");
  }

  // A block past the image gets an EC header alone, like the rest of a
  // freshly formatted device.
  std::vector<std::uint8_t> empty_peb(peb_size, 0xFF);
  FlashReport report;
  std::uint32_t next = 0;  // the image's next PEB
  for (std::uint32_t block = 0; block < g.block_count; ++block) {
    if (old->bad[block]) {
      ++report.skipped_bad;
      continue;
    }
    const std::uint64_t count = old->counts[block].value_or(old->mean) + 1;
    const bool from_image = next < image_pebs;
    const auto source = from_image ? image.subspan(std::size_t{next} * peb_size, peb_size)
                                   : std::span<const std::uint8_t>(empty_peb);
    EcHeader ec = *header;
    if (from_image) decode(source, ec);
    auto written = write_block(mtd, block, peb_with_counter(source, ec, count), report);
    if (!written) return tl::unexpected(written.error());
    if (!*written) {
      ++report.skipped_bad;
      continue;
    }
    if (from_image) {
      ++next;
      ++report.image_pebs;
    } else {
      ++report.formatted;
    }
  }
  if (next < image_pebs) {
    return refuse_image("blocks failed while writing: " + std::to_string(image_pebs - next) +
                        " eraseblocks of the image found no good block");
  }
  return report;
}

}  // namespace vmodem::nand::ubi
