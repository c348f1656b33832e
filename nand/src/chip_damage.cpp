// SimulatedChip: torn and failing operations, injected damage, unstable
// cells. Everything random here draws from the chip's seeded generator (or a
// hash of the seed), so a campaign replays exactly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <vmodem/nand/chip.hpp>

#include "bits.hpp"
#include "chip_request.hpp"

namespace vmodem::nand {

namespace {

std::uint32_t to_p256(double p) {
  return static_cast<std::uint32_t>(std::lround(std::clamp(p, 0.0, 1.0) * 256.0));
}

}  // namespace

// --- programs ---

void SimulatedChip::apply_torn_program(const Request& request, double programmed_fraction) {
  const Geometry& g = geometry();
  const std::uint32_t raw = g.raw_page_size();
  const PageAddr addr = request.addr;
  storage_.will_modify_data(addr.block);
  std::uint8_t cells[kMaxRawPage];
  std::uint8_t mask[kMaxRawPage];
  std::uint8_t skipped[kMaxRawPage];  // 0-bits the interrupted pulse never reached
  storage_.read_cells(addr, 0, {cells, raw});
  if (const std::uint8_t* old = storage_.deviation(addr)) {
    std::memcpy(mask, old, raw);
  } else {
    std::memset(mask, 0, raw);
  }
  bits::random_bits({skipped, raw}, to_p256(1.0 - programmed_fraction), rng_);
  for (const auto& segment : request.segments()) {
    for (std::size_t i = 0; i < segment.bytes.size(); ++i) {
      const std::size_t at = segment.column + i;
      const std::uint8_t d = segment.bytes[i];
      const std::uint8_t intended = static_cast<std::uint8_t>((cells[at] ^ mask[at]) & d);
      cells[at] = static_cast<std::uint8_t>(cells[at] & (d | skipped[at]));
      mask[at] = static_cast<std::uint8_t>(cells[at] ^ intended);
    }
  }
  storage_.set_cells(addr, 0, {cells, raw});
  if (bits::all_zero({mask, raw})) {
    storage_.deviation_release(addr);
  } else if (auto slot = storage_.deviation_acquire(addr)) {
    std::memcpy(*slot, mask, raw);
  } else {
    // No room to remember the damage: complete the program rather than leave
    // cells that would read back as clean garbage.
    apply_program(request);
  }
}

void SimulatedChip::disturb_earlier_pages(PageAddr addr) {
  const std::uint32_t first = addr.page >= 2 ? addr.page - 2 : 0;
  for (std::uint32_t p = first; p < addr.page; ++p) {
    if (storage_.page_meta({addr.block, p}).program_count == 0 || !rng_.chance(0.5)) continue;
    const auto bits =
        1 + static_cast<std::uint32_t>(rng_.below(std::max(1U, config_.tear.disturb_max_bits)));
    (void)inject_bit_flips({addr.block, p}, bits);
  }
}

Status SimulatedChip::tear_program(const Request& request, TearMode mode) {
  if (auto ok = check_program(request); !ok) {
    cut_power();
    return ok;
  }
  if (mode == TearMode::partial) {
    apply_torn_program(request, 0.05 + 0.9 * rng_.unit());
  } else {
    apply_program(request);
    storage_.page_meta(request.addr).flags |= kUnstable;
    storage_.page_meta(request.addr).unstable_reads = 0;
  }
  if (config_.tear.program_disturbs_earlier_pages) disturb_earlier_pages(request.addr);
  finish_program(request);
  ++storage_.counters().torn_operations;
  cut_power();
  return power_loss_error(request.addr.block, request.addr.page);
}

Status SimulatedChip::program_torn(PageAddr addr, std::span<const std::uint8_t> main,
                                   std::span<const std::uint8_t> spare, TearMode mode) {
  const Geometry& g = geometry();
  if ((!main.empty() && main.size() != g.page_size) ||
      (!spare.empty() && spare.size() != g.spare_size)) {
    cut_power();
    return fail(Errc::invalid_argument, addr.block, addr.page, "program buffer size");
  }
  return tear_program(Request::full(addr, main, spare, g), mode);
}

Status SimulatedChip::program_partial_torn(PageAddr addr, std::uint32_t column,
                                           std::span<const std::uint8_t> bytes, TearMode mode) {
  return tear_program(Request::partial_at(addr, column, bytes), mode);
}

Status SimulatedChip::fail_program(const Request& request) {
  apply_torn_program(request, 0.05 + 0.9 * rng_.unit());
  finish_program(request);
  storage_.block_meta(request.addr.block).flags |= kFailed;
  ++storage_.counters().program_fails;
  return fail(Errc::program_fail, request.addr.block, request.addr.page, "program status FAIL");
}

Status SimulatedChip::program_failing(PageAddr addr, std::span<const std::uint8_t> main,
                                      std::span<const std::uint8_t> spare) {
  const Geometry& g = geometry();
  if ((!main.empty() && main.size() != g.page_size) ||
      (!spare.empty() && spare.size() != g.spare_size)) {
    return fail(Errc::invalid_argument, addr.block, addr.page, "program buffer size");
  }
  const Request request = Request::full(addr, main, spare, g);
  if (auto ok = check_program(request); !ok) return ok;
  return fail_program(request);
}

Status SimulatedChip::program_partial_failing(PageAddr addr, std::uint32_t column,
                                              std::span<const std::uint8_t> bytes) {
  const Request request = Request::partial_at(addr, column, bytes);
  if (auto ok = check_program(request); !ok) return ok;
  return fail_program(request);
}

// --- erases ---

void SimulatedChip::apply_torn_erase(std::uint32_t block, double kept_fraction) {
  const Geometry& g = geometry();
  const std::uint32_t raw = g.raw_page_size();
  storage_.will_modify_data(block);
  std::uint8_t cells[kMaxRawPage];
  std::uint8_t kept[kMaxRawPage];  // 0-bits the interrupted erase left at 0
  for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
    const PageAddr addr{block, p};
    storage_.read_cells(addr, 0, {cells, raw});
    const bool blank = std::all_of(cells, cells + raw, [](std::uint8_t b) { return b == 0xFF; });
    if (!blank) {
      bits::random_bits({kept, raw}, to_p256(kept_fraction), rng_);
      for (std::uint32_t i = 0; i < raw; ++i)
        cells[i] = static_cast<std::uint8_t>(cells[i] | ~kept[i]);
      // Written while the page's metadata still says what it held: a
      // checkpoint or snapshot saves the page on this first touch, and would
      // take a page whose program count is already reset for erased.
      storage_.set_cells(addr, 0, {cells, raw});
    }
    storage_.deviation_release(addr);
    storage_.page_meta(addr) = PageMeta{};
    if (blank) continue;
    auto slot = storage_.deviation_acquire(addr);
    if (!slot) {
      std::memset(cells, 0xFF, raw);  // cannot remember the damage: erase the page fully
    } else {
      // The intended content of an erased page is all ones: the mask is
      // exactly the bits still at 0.
      for (std::uint32_t i = 0; i < raw; ++i)
        (*slot)[i] = static_cast<std::uint8_t>(~cells[i]);
    }
    storage_.set_cells(addr, 0, {cells, raw});
    if (slot && bits::all_zero({*slot, raw})) storage_.deviation_release(addr);
  }
  BlockMeta& meta = storage_.block_meta(block);
  meta.next_page = 0;
  meta.reads_since_erase = 0;
  ++meta.erase_count;
  ++storage_.counters().erases;
  spend(std::uint64_t{config_.timing.erase_us} * 1000);
}

Status SimulatedChip::erase_torn(std::uint32_t block, TearMode mode) {
  if (auto ok = check_erase(block); !ok) {
    cut_power();
    return ok;
  }
  if (mode == TearMode::partial) {
    apply_torn_erase(block, 0.02 + 0.6 * rng_.unit());
  } else {
    apply_erase(block);
    for (std::uint32_t p = 0; p < geometry().pages_per_block; ++p) {
      storage_.page_meta({block, p}).flags |= kUnstable;
    }
  }
  ++storage_.counters().torn_operations;
  cut_power();
  return power_loss_error(block);
}

Status SimulatedChip::erase_failing(std::uint32_t block) {
  if (auto ok = check_erase(block); !ok) return ok;
  apply_torn_erase(block, 0.02 + 0.6 * rng_.unit());
  storage_.block_meta(block).flags |= kFailed;
  ++storage_.counters().erase_fails;
  return fail(Errc::erase_fail, block, -1, "erase status FAIL");
}

// --- injected damage ---

void SimulatedChip::flip_random_bits(std::uint8_t* bits_out, std::uint32_t count,
                                     std::int64_t sector, Rng& rng) const {
  // Candidate byte ranges: one sector's codeword, or the whole page; never
  // the bad-block marker, which no one should lose to a random flip.
  SectorRegion regions[2];
  std::uint32_t begin[2], length[2];
  if (sector >= 0) {
    regions[0] = sector_region(static_cast<std::uint32_t>(sector));
    begin[0] = regions[0].main_begin;
    length[0] = config_.ecc.sector_size;
    begin[1] = regions[0].spare_begin;
    length[1] = regions[0].spare_end - regions[0].spare_begin;
  } else {
    begin[0] = 0;
    length[0] = geometry().page_size;
    begin[1] = geometry().page_size + kBadBlockMarkerBytes;
    length[1] = geometry().spare_size - kBadBlockMarkerBytes;
  }
  const std::uint64_t total_bits = std::uint64_t{length[0] + length[1]} * 8;
  count = static_cast<std::uint32_t>(std::min<std::uint64_t>(count, total_bits));
  std::uint32_t placed = 0;
  for (std::uint64_t tries = 0; placed < count && tries < std::uint64_t{count} * 64; ++tries) {
    std::uint64_t bit = rng.below(total_bits);
    const int part = bit < std::uint64_t{length[0]} * 8 ? 0 : 1;
    if (part == 1) bit -= std::uint64_t{length[0]} * 8;
    std::uint8_t& byte = bits_out[begin[part] + bit / 8];
    const auto flag = static_cast<std::uint8_t>(1U << (bit % 8));
    if (byte & flag) continue;
    byte |= flag;
    ++placed;
  }
}

Status SimulatedChip::inject_bit_flips(PageAddr addr, std::uint32_t bits,
                                       std::optional<std::uint32_t> sector) {
  const Geometry& g = geometry();
  if (addr.block >= g.block_count || addr.page >= g.pages_per_block ||
      (sector && *sector >= sectors_)) {
    return fail(Errc::out_of_range, addr.block, addr.page);
  }
  const std::uint32_t raw = g.raw_page_size();
  storage_.will_modify_data(addr.block);
  auto mask = storage_.deviation_acquire(addr);
  if (!mask) return tl::unexpected(mask.error());
  std::uint8_t flips[kMaxRawPage] = {};
  flip_random_bits(flips, bits, sector ? static_cast<std::int64_t>(*sector) : -1, rng_);
  std::uint8_t cells[kMaxRawPage];
  storage_.read_cells(addr, 0, {cells, raw});
  for (std::uint32_t i = 0; i < raw; ++i) {
    cells[i] ^= flips[i];
    (*mask)[i] ^= flips[i];
  }
  storage_.set_cells(addr, 0, {cells, raw});
  if (bits::all_zero({*mask, raw})) storage_.deviation_release(addr);
  return {};
}

Status SimulatedChip::make_unstable(PageAddr addr) {
  const Geometry& g = geometry();
  if (addr.block >= g.block_count || addr.page >= g.pages_per_block) {
    return fail(Errc::out_of_range, addr.block, addr.page);
  }
  storage_.will_modify_meta(addr.block);
  PageMeta& meta = storage_.page_meta(addr);
  meta.flags |= kUnstable;
  meta.unstable_reads = 0;
  return {};
}

Status SimulatedChip::fail_block(std::uint32_t block) {
  if (block >= geometry().block_count) return fail(Errc::out_of_range, block);
  storage_.will_modify_meta(block);
  storage_.block_meta(block).flags |= kFailed;
  return {};
}

void SimulatedChip::unstable_read_noise(PageAddr addr, std::uint32_t read_number,
                                        std::uint8_t* noise) const {
  // What a marginal page reads is a pure function of (seed, page, read
  // number): replayable, yet different from one read to the next. Early reads
  // tend to pass and later ones to fail, as charge drifts.
  const std::uint32_t t = config_.ecc.strength_bits;
  const std::uint64_t page_index =
      std::uint64_t{addr.block} * geometry().pages_per_block + addr.page;
  const double fail_chance = std::min(0.9, 0.3 + 0.2 * read_number);
  for (std::uint32_t s = 0; s < sectors_; ++s) {
    const std::uint64_t h = Rng::mix(config_.seed ^ (page_index << 20), read_number * 64ULL + s);
    const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
    const std::uint32_t flips = u < fail_chance ? t + 1 + static_cast<std::uint32_t>(h % 4)
                                                : static_cast<std::uint32_t>(h % (t + 1));
    Rng local(h);
    flip_random_bits(noise, flips, s, local);
  }
}

}  // namespace vmodem::nand
