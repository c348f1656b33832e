// Fuzzes the FOTA area's on-NAND records: the staging header (package
// length + SHA-256) and the update journal (sequence number + ApplyProgress
// per page, two blocks). The input lays out a FOTA partition — journal pages
// raw or sealed, a header raw, sealed or valid for the stored bytes, package
// bytes — then the area must:
//   * report a staged package only within its capacity, `intact` only when
//     the bytes match the header's digest;
//   * after record_progress() succeeds, give that record back from a fresh
//     open (the journal's newest record wins, whatever was there before);
//   * after clear(), hold no package and no journal.
#include <cstdint>
#include <cstdio>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include <vmodem/fota/fota_area.hpp>

#include "nand_fuzz_fixture.hpp"

namespace vmodem::fota::fuzz {
namespace {

constexpr std::string_view kHeaderMagic = "VMST";
constexpr std::string_view kJournalMagic = "VMJL";

Bytes u64_le(std::uint64_t v) {
  Bytes out;
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}

ApplyProgress progress_from(FuzzedDataProvider& in) {
  ApplyProgress p;
  p.image_index = in.ConsumeIntegral<std::uint32_t>();
  p.image_offset = in.ConsumeIntegral<std::uint64_t>();
  p.package_id[0] = in.ConsumeIntegral<std::uint8_t>();
  return p;
}

// One journal page: raw bytes, or a sealed record (sequence number and
// either a valid ApplyProgress or raw bytes).
Bytes journal_page(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      return in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 96));
    case 1: {
      Bytes body = u64_le(in.ConsumeIntegral<std::uint64_t>());
      const auto record = progress_from(in).serialize();
      body.insert(body.end(), record.begin(), record.end());
      return seal(kJournalMagic, body);
    }
    default:
      return seal(kJournalMagic,
                  in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 96)));
  }
}

Bytes header_page(FuzzedDataProvider& in, const Bytes& package) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return {};  // no header: nothing staged
    case 1:
      return in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 64));
    case 2:
      return seal(kHeaderMagic,
                  in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 64)));
    default: {
      // Valid digest, possibly a wrong length.
      Bytes body = u64_le(in.ConsumeBool() ? package.size() : in.ConsumeIntegral<std::uint64_t>());
      const Digest d = sha256(package);
      body.insert(body.end(), d.begin(), d.end());
      return seal(kHeaderMagic, body);
    }
  }
}

void lay_out(TinyNand& nand, FuzzedDataProvider& in) {
  const std::uint32_t first = tiny_fota().first_block;
  for (std::uint32_t b = 0; b < 2; ++b) {
    std::vector<Bytes> pages(in.ConsumeIntegralInRange<std::size_t>(0, 8));
    for (auto& page : pages)
      page = journal_page(in);
    if (!pages.empty()) nand.write_block(first + b, pages);
  }
  const Bytes package =
      in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 20000));
  const Bytes header = header_page(in, package);
  if (!header.empty()) nand.write_block(first + 2, {header, Bytes(16, 0)});
  // The package bytes, a page at a time from block 3.
  const std::size_t page_size = tiny_geometry().page_size;
  const std::size_t per_block = tiny_geometry().pages_per_block;
  for (std::size_t block = 0; block * per_block * page_size < package.size(); ++block) {
    std::vector<Bytes> pages;
    for (std::size_t p = 0; p < per_block; ++p) {
      const std::size_t at = (block * per_block + p) * page_size;
      if (at >= package.size()) break;
      const std::size_t n = std::min(page_size, package.size() - at);
      pages.emplace_back(package.begin() + static_cast<std::ptrdiff_t>(at),
                         package.begin() + static_cast<std::ptrdiff_t>(at + n));
    }
    nand.write_block(first + 3 + static_cast<std::uint32_t>(block), pages);
  }
}

void check_staged(FotaArea& area) {
  auto staged = area.staged();
  if (!staged) __builtin_trap();  // only power loss may fail
  if (!*staged) return;
  if ((*staged)->bytes.size() > area.capacity()) __builtin_trap();
}

// What the journal blocks hold, for the report of a failed check.
void dump_journal(nand::Device& device, const ApplyProgress& expected) {
  std::fprintf(stderr, "expected image %u offset %llu\n", expected.image_index,
               static_cast<unsigned long long>(expected.image_offset));
  const auto& g = device.geometry();
  Bytes page(g.page_size);
  for (std::uint32_t b = 0; b < 2; ++b) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      const bool ok = device.read({tiny_fota().first_block + b, p}, page, {}).has_value();
      std::uint64_t seq = 0;
      for (int i = 0; i < 8; ++i)
        seq |= std::uint64_t{page[8 + static_cast<std::size_t>(i)]} << (8 * i);
      std::fprintf(
          stderr, "block %u page %u %s %.4s len %u seq %llu\n", b, p, ok ? "ok" : "ERR",
          reinterpret_cast<const char*>(page.data()),
          page[4] | (page[5] << 8) | (page[6] << 16) | (static_cast<unsigned>(page[7]) << 24),
          static_cast<unsigned long long>(seq));
    }
  }
}

void check_journal(nand::Device& device, FuzzedDataProvider& in) {
  auto area = FotaArea::open(device, tiny_fota());
  if (!area) __builtin_trap();
  const ApplyProgress probe = progress_from(in);
  if (!(*area)->last_progress(probe.package_id)) __builtin_trap();
  // Appending records over whatever the journal holds: the last one
  // appended is the one a fresh open finds.
  const int appends = in.ConsumeIntegralInRange<int>(1, 20);
  ApplyProgress last;
  bool any = false;
  for (int i = 0; i < appends; ++i) {
    ApplyProgress p = probe;
    p.image_offset += static_cast<std::uint64_t>(i);
    if (!(*area)->record_progress(p)) break;  // a refused program: allowed
    last = p;
    any = true;
  }
  if (!any) return;
  auto again = FotaArea::open(device, tiny_fota());
  if (!again) __builtin_trap();
  auto found = (*again)->last_progress(last.package_id);
  if (!found || !*found || !(**found == last)) {
    dump_journal(device, last);
    __builtin_trap();
  }
}

void check_clear(nand::Device& device) {
  auto area = FotaArea::open(device, tiny_fota());
  if (!area || !(*area)->clear()) __builtin_trap();
  auto again = FotaArea::open(device, tiny_fota());
  if (!again) __builtin_trap();
  auto staged = (*again)->staged();
  if (!staged || *staged) __builtin_trap();
}

}  // namespace
}  // namespace vmodem::fota::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vmodem::fota;
  using namespace vmodem::fota::fuzz;
  static TinyNand nand;
  (void)ApplyProgress::deserialize(ByteView(data, size));
  FuzzedDataProvider in(data, size);
  auto& device = nand.reset();
  lay_out(nand, in);
  auto area = FotaArea::open(device, tiny_fota());
  if (!area) __builtin_trap();
  check_staged(**area);
  check_journal(device, in);
  check_clear(device);
  return 0;
}
