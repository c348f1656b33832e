// SimulatedChip: the physics rules, ECC decode, wear and timing. Tearing and
// injected damage live in chip_damage.cpp.
#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>
#include <utility>

#include <xxhash.h>

#include <vmodem/nand/chip.hpp>

#include "bits.hpp"
#include "chip_request.hpp"

namespace vmodem::nand {

namespace {

// What a program or erase does, as far as its result goes: the operation,
// where, the bytes it programs and the state of the generator it draws
// from (wear failures). See Storage::name_deterministic_change.
std::uint64_t fingerprint(std::uint64_t what, const Rng& drawn) {
  return Rng::mix(what, drawn.fingerprint());
}

std::uint64_t program_fingerprint(PageAddr addr, std::span<const ProgramSegment> segments,
                                  const Rng& drawn) {
  std::uint64_t hash = Rng::mix(addr.block, addr.page);
  for (const auto& segment : segments) {
    // Each segment's bytes seeded with everything before them and where
    // they go: main and spare, or a partial program's column.
    const std::uint64_t where =
        Rng::mix(hash, (std::uint64_t{segment.column} << 32) | segment.bytes.size());
    hash = XXH3_64bits_withSeed(segment.bytes.data(), segment.bytes.size(), where);
  }
  return fingerprint(hash, drawn);
}

std::uint64_t erase_fingerprint(std::uint32_t block, const Rng& drawn) {
  constexpr std::uint64_t kErase = 0xE7A5E000'00000000ULL;
  return fingerprint(kErase | block, drawn);
}

}  // namespace

SimulatedChip::SimulatedChip(Storage& storage, ChipConfig config)
    : storage_(storage), config_(config), rng_(config.seed) {
  const Geometry& g = storage_.geometry();
  if (config_.ecc.sector_size == 0 || g.page_size % config_.ecc.sector_size != 0) {
    config_.ecc.sector_size = g.page_size;  // one codeword per page
  }
  sectors_ = g.page_size / config_.ecc.sector_size;
  sector_spare_ = g.spare_size / sectors_;
}

// --- helpers shared by every operation ---

Status SimulatedChip::power_loss_error(std::int64_t block, std::int64_t page) const {
  return fail(Errc::power_loss, block, page, "power is off");
}

Status SimulatedChip::refuse(Errc code, PageAddr addr, std::uint64_t DeviceCounters::*counter) {
  ++(storage_.counters().*counter);
  return fail(code, addr.block, addr.page);
}

void SimulatedChip::spend(std::uint64_t ns) {
  storage_.counters().virtual_time_ns += ns;
  if (!pacing_) return;
  // The operation starts now, or when the one before it finishes: time the
  // chip sat idle is gone, not credit for later operations.
  paced_until_ =
      std::max(paced_until_, std::chrono::steady_clock::now()) + std::chrono::nanoseconds(ns);
  if (caller_waits_) return;
  if (const auto until = pacing_deadline()) std::this_thread::sleep_until(*until);
}

std::optional<std::chrono::steady_clock::time_point> SimulatedChip::pacing_deadline() const {
  if (!pacing_ || paced_until_ - std::chrono::steady_clock::now() < std::chrono::milliseconds(1))
    return std::nullopt;
  return paced_until_;
}

void SimulatedChip::set_real_time_pacing(bool on) {
  pacing_ = on;
  paced_until_ = std::chrono::steady_clock::now();
}

std::chrono::nanoseconds SimulatedChip::virtual_time() const {
  return std::chrono::nanoseconds(storage_.counters().virtual_time_ns);
}

void SimulatedChip::cut_power() {
  if (!powered_) return;
  powered_ = false;
  ++storage_.counters().power_cuts;
}

void SimulatedChip::power_off() {
  powered_ = false;
}

void SimulatedChip::power_up() {
  powered_ = true;
  if (pacing_) set_real_time_pacing(true);
}

bool SimulatedChip::wear_failure(std::uint32_t block) {
  const auto& wear = config_.wear;
  const std::uint32_t cycles = storage_.block_meta(block).erase_count;
  if (cycles == 0 || wear.endurance_cycles == 0 || wear.fail_probability_at_endurance <= 0) {
    return false;
  }
  const double x = static_cast<double>(cycles) / wear.endurance_cycles;
  return rng_.chance(wear.fail_probability_at_endurance * x * x * x * x);
}

// --- program ---

Status SimulatedChip::check_program(const Request& request) {
  const Geometry& g = geometry();
  const PageAddr addr = request.addr;
  ++storage_.counters().operations;
  if (!powered_) return power_loss_error(addr.block, addr.page);
  if (addr.block >= g.block_count || addr.page >= g.pages_per_block || !request.fits(g)) {
    return fail(Errc::out_of_range, addr.block, addr.page);
  }
  const BlockMeta& block = storage_.block_meta(addr.block);
  if (block.flags & (kFactoryBad | kFailed)) {
    storage_.will_modify_meta(addr.block);
    ++storage_.counters().program_fails;
    spend(std::uint64_t{config_.timing.program_us} * 1000);
    return fail(Errc::program_fail, addr.block, addr.page, "block has failed before");
  }
  if (addr.page + 1 < block.next_page) {
    return refuse(Errc::order_violation, addr, &DeviceCounters::order_violations);
  }
  const PageMeta& page = storage_.page_meta(addr);
  if (page.program_count >= g.nop) {
    return refuse(Errc::nop_exceeded, addr, &DeviceCounters::nop_violations);
  }
  // A page never programmed since erase and without damage is all ones:
  // nothing can be asked that it cannot hold.
  if (page.program_count == 0 && page.deviation_slot == 0) return {};
  const std::uint8_t* mask = storage_.deviation(addr);
  std::uint8_t cells[kMaxRawPage];
  for (const auto& segment : request.segments()) {
    std::span<std::uint8_t> out{cells, segment.bytes.size()};
    storage_.read_cells(addr, segment.column, out);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint8_t intended = mask ? out[i] ^ mask[segment.column + i] : out[i];
      if (segment.bytes[i] & ~intended) {
        return refuse(Errc::cannot_set_bits, addr, &DeviceCounters::set_bit_violations);
      }
    }
  }
  return {};
}

void SimulatedChip::apply_program(const Request& request) {
  const PageAddr addr = request.addr;
  storage_.will_modify_data(addr.block);
  std::uint8_t* mask = storage_.deviation(addr);
  for (const auto& segment : request.segments()) {
    storage_.program_cells(addr, segment.column, segment.bytes);
    // With a deviation the intended content is programmed the same way, so
    // the mask becomes (old_cells & d) ^ (old_intended & d) = old_mask & d.
    if (mask) {
      for (std::size_t i = 0; i < segment.bytes.size(); ++i) {
        mask[segment.column + i] &= segment.bytes[i];
      }
    }
  }
  if (mask && bits::all_zero({mask, geometry().raw_page_size()})) storage_.deviation_release(addr);
}

void SimulatedChip::finish_program(const Request& request) {
  const PageAddr addr = request.addr;
  storage_.will_modify_meta(addr.block);
  BlockMeta& block = storage_.block_meta(addr.block);
  PageMeta& page = storage_.page_meta(addr);
  ++page.program_count;
  block.next_page =
      static_cast<std::uint8_t>(std::max<std::uint32_t>(block.next_page, addr.page + 1));
  ++block.programs;
  auto& counters = storage_.counters();
  ++counters.programs;
  if (request.partial) ++counters.partial_programs;
  spend(std::uint64_t{config_.timing.program_us} * 1000 +
        std::uint64_t{config_.timing.transfer_ns_per_byte} * request.byte_count());
}

Status SimulatedChip::program(PageAddr addr, std::span<const std::uint8_t> main,
                              std::span<const std::uint8_t> spare) {
  const Geometry& g = geometry();
  if ((!main.empty() && main.size() != g.page_size) ||
      (!spare.empty() && spare.size() != g.spare_size)) {
    ++storage_.counters().operations;
    return fail(Errc::invalid_argument, addr.block, addr.page, "program buffer size");
  }
  return run_program(Request::full(addr, main, spare, g));
}

Status SimulatedChip::program_partial(PageAddr addr, std::uint32_t column,
                                      std::span<const std::uint8_t> bytes) {
  return run_program(Request::partial_at(addr, column, bytes));
}

Status SimulatedChip::run_program(const Request& request) {
  if (auto ok = check_program(request); !ok) return ok;
  const std::uint64_t before = storage_.content_id();
  const std::uint64_t change = program_fingerprint(request.addr, request.segments(), rng_);
  if (wear_failure(request.addr.block)) return fail_program(request);
  apply_program(request);
  finish_program(request);
  storage_.name_deterministic_change(before, change);
  return {};
}

// --- erase ---

Status SimulatedChip::check_erase(std::uint32_t block) {
  ++storage_.counters().operations;
  if (!powered_) return power_loss_error(block);
  if (block >= geometry().block_count) return fail(Errc::out_of_range, block);
  if (storage_.block_meta(block).flags & (kFactoryBad | kFailed)) {
    storage_.will_modify_meta(block);
    ++storage_.counters().erase_fails;
    spend(std::uint64_t{config_.timing.erase_us} * 1000);
    return fail(Errc::erase_fail, block, -1, "block has failed before");
  }
  return {};
}

void SimulatedChip::apply_erase(std::uint32_t block) {
  const Geometry& g = geometry();
  storage_.will_modify_data(block);
  storage_.erase_cells(block);
  for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
    storage_.deviation_release({block, p});
    storage_.page_meta({block, p}) = PageMeta{};
  }
  BlockMeta& meta = storage_.block_meta(block);
  meta.next_page = 0;
  meta.reads_since_erase = 0;
  ++meta.erase_count;
  ++storage_.counters().erases;
  spend(std::uint64_t{config_.timing.erase_us} * 1000);
}

Status SimulatedChip::erase(std::uint32_t block) {
  if (auto ok = check_erase(block); !ok) return ok;
  const std::uint64_t before = storage_.content_id();
  const std::uint64_t change = erase_fingerprint(block, rng_);
  if (wear_failure(block)) return erase_failing(block);
  apply_erase(block);
  storage_.name_deterministic_change(before, change);
  return {};
}

// --- bad-block marker ---

Result<bool> SimulatedChip::is_bad(std::uint32_t block) {
  ++storage_.counters().operations;
  if (!powered_) return tl::unexpected(power_loss_error(block).error());
  if (block >= geometry().block_count) return fail(Errc::out_of_range, block);
  std::uint8_t marker = 0;
  storage_.read_cells({block, 0}, geometry().page_size, {&marker, 1});
  storage_.will_count_read(block);
  ++storage_.block_meta(block).reads;
  ++storage_.counters().reads;
  spend(std::uint64_t{config_.timing.read_us} * 1000 + config_.timing.transfer_ns_per_byte);
  return marker != 0xFF;
}

Status SimulatedChip::mark_bad(std::uint32_t block) {
  ++storage_.counters().operations;
  if (!powered_) return power_loss_error(block);
  if (block >= geometry().block_count) return fail(Errc::out_of_range, block);
  static constexpr std::uint8_t kMarker[kBadBlockMarkerBytes] = {0x00, 0x00};
  storage_.will_modify_data(block);
  storage_.program_cells({block, 0}, geometry().page_size, kMarker);
  BlockMeta& meta = storage_.block_meta(block);
  if (!(meta.flags & kFactoryBad)) meta.flags |= kMarkedBad;
  ++meta.programs;
  ++storage_.counters().programs;
  ++storage_.counters().partial_programs;
  spend(std::uint64_t{config_.timing.program_us} * 1000);
  return {};
}

void SimulatedChip::manufacture_bad_block(std::uint32_t block) {
  storage_.will_modify_data(block);
  static constexpr std::uint8_t kMarker[kBadBlockMarkerBytes] = {0x00, 0x00};
  storage_.program_cells({block, 0}, geometry().page_size, kMarker);
  storage_.block_meta(block).flags |= kFactoryBad;
}

// --- read ---

void SimulatedChip::maybe_wear_and_disturb(PageAddr addr) {
  const auto& wear = config_.wear;
  BlockMeta& block = storage_.block_meta(addr.block);
  ++block.reads_since_erase;
  if (wear.wear_bit_errors && block.erase_count > 0 && wear.endurance_cycles > 0) {
    const double x = static_cast<double>(block.erase_count) / wear.endurance_cycles;
    if (rng_.chance(wear.wear_bit_error_rate * x * x)) (void)inject_bit_flips(addr, 1);
  }
  if (wear.read_disturb && block.reads_since_erase > wear.read_disturb_threshold &&
      block.next_page > 1 && rng_.chance(wear.read_disturb_rate)) {
    // Read disturb stresses the other word lines of the block, not the one read.
    std::uint32_t victim = static_cast<std::uint32_t>(rng_.below(block.next_page));
    if (victim == addr.page) victim = (victim + 1) % block.next_page;
    (void)inject_bit_flips({addr.block, victim}, 1);
  }
}

// What every read does before the cells are sensed: counted as an
// operation even when refused, then power, address and the caller's buffer
// sizes (`sizes_ok`) checked, and the read's wear and time spent.
Status SimulatedChip::start_read(PageAddr addr, bool sizes_ok, std::size_t bytes_moved) {
  const Geometry& g = geometry();
  ++storage_.counters().operations;
  if (!powered_) return power_loss_error(addr.block, addr.page);
  if (addr.block >= g.block_count || addr.page >= g.pages_per_block) {
    return fail(Errc::out_of_range, addr.block, addr.page);
  }
  if (!sizes_ok) return fail(Errc::invalid_argument, addr.block, addr.page, "read buffer size");
  storage_.will_count_read(addr.block);
  ++storage_.block_meta(addr.block).reads;
  ++storage_.counters().reads;
  spend(std::uint64_t{config_.timing.read_us} * 1000 +
        std::uint64_t{config_.timing.transfer_ns_per_byte} * bytes_moved);
  if (config_.wear.wear_bit_errors || config_.wear.read_disturb) maybe_wear_and_disturb(addr);
  return {};
}

// A page read as programmed, with no bit for the ECC engine to correct.
bool SimulatedChip::reads_clean(PageAddr addr) const {
  const PageMeta& page = storage_.page_meta(addr);
  return page.deviation_slot == 0 && !(page.flags & kUnstable);
}

Result<ReadInfo> SimulatedChip::read(PageAddr addr, std::span<std::uint8_t> main,
                                     std::span<std::uint8_t> spare) {
  const Geometry& g = geometry();
  const bool sizes_ok =
      main.size() <= g.page_size && (spare.empty() || spare.size() == g.spare_size);
  if (auto ok = start_read(addr, sizes_ok, main.size() + spare.size()); !ok)
    return tl::unexpected(ok.error());
  if (reads_clean(addr)) {
    if (!main.empty()) storage_.read_cells(addr, 0, main);
    if (!spare.empty()) storage_.read_cells(addr, g.page_size, spare);
    return ReadInfo{};
  }
  return decode(addr, main, spare);
}

Result<ReadInfo> SimulatedChip::read_column(PageAddr addr, std::uint32_t column,
                                            std::span<std::uint8_t> out) {
  const Geometry& g = geometry();
  const bool sizes_ok = column <= g.page_size && out.size() <= g.page_size - column;
  if (auto ok = start_read(addr, sizes_ok, out.size()); !ok) return tl::unexpected(ok.error());
  if (reads_clean(addr)) {
    storage_.read_cells(addr, column, out);
    return ReadInfo{};
  }
  // Bits to correct: the ECC engine decodes the sectors, as for read().
  std::uint8_t main[kMaxPageSize];
  auto info = decode(addr, {main, column + out.size()}, {});
  if (info || info.error().code == Errc::uncorrectable)
    std::memcpy(out.data(), main + column, out.size());
  return info;
}

Result<ReadInfo> SimulatedChip::decode(PageAddr addr, std::span<std::uint8_t> main,
                                       std::span<std::uint8_t> spare) {
  const Geometry& g = geometry();
  const std::uint32_t raw = g.raw_page_size();
  std::uint8_t cells[kMaxRawPage];
  storage_.read_cells(addr, 0, {cells, raw});
  // Two kinds of wrong bits: persistent ones (the mask: cells vs. what was
  // programmed) and, on a marginal page, the flips of this read only.
  const std::uint8_t* mask = std::as_const(storage_).deviation(addr);  // read, not touched
  PageMeta& page = storage_.page_meta(addr);
  std::uint8_t transient[kMaxRawPage];
  const bool unstable = (page.flags & kUnstable) != 0;
  std::uint8_t noise[kMaxRawPage];  // every bit the ECC engine sees wrong
  if (unstable) {
    std::memset(transient, 0, raw);
    unstable_read_noise(addr, page.unstable_reads, transient);
    storage_.will_modify_meta(addr.block);  // the next read of the page differs
    page.unstable_reads = static_cast<std::uint16_t>(std::min(page.unstable_reads + 1, 0xFFFF));
    std::memcpy(noise, transient, raw);
    if (mask) bits::xor_into(noise, mask, raw);
  } else if (mask) {
    std::memcpy(noise, mask, raw);
  } else {
    std::memset(noise, 0, raw);
  }

  const bool want_main = !main.empty();
  const std::uint32_t sector_size = config_.ecc.sector_size;
  ReadInfo info;
  bool uncorrectable = false;
  for (std::uint32_t s = 0; s < sectors_; ++s) {
    const auto r = sector_region(s);
    const std::uint32_t spare_len = r.spare_end - r.spare_begin;
    std::uint32_t errors = bits::popcount({noise + r.spare_begin, spare_len});
    if (want_main) errors += bits::popcount({noise + r.main_begin, sector_size});
    const bool fixable = errors <= config_.ecc.strength_bits;
    if (fixable) {
      info.corrected_bits = static_cast<std::uint16_t>(info.corrected_bits + errors);
      info.max_sector_corrected =
          static_cast<std::uint8_t>(std::max<std::uint32_t>(info.max_sector_corrected, errors));
    }
    uncorrectable |= !fixable;
    // What leaves the chip: the programmed bits when ECC fixed the sector,
    // the bits as sensed (cells plus this read's flips) when it could not.
    const std::uint8_t* fix = fixable ? mask : (unstable ? transient : nullptr);
    if (fix) {
      bits::xor_into(cells + r.main_begin, fix + r.main_begin, sector_size);
      bits::xor_into(cells + r.spare_begin, fix + r.spare_begin, spare_len);
    }
  }
  // The bad-block marker bytes are outside every codeword: raw as sensed.
  if (unstable) bits::xor_into(cells + g.page_size, transient + g.page_size, kBadBlockMarkerBytes);
  if (want_main) std::memcpy(main.data(), cells, main.size());
  if (!spare.empty()) std::memcpy(spare.data(), cells + g.page_size, g.spare_size);

  auto& counters = storage_.counters();
  if (uncorrectable) {
    ++counters.uncorrectable_reads;
    return fail(Errc::uncorrectable, addr.block, addr.page, "ECC could not correct the page");
  }
  if (info.corrected_bits > 0) {
    ++counters.corrected_reads;
    counters.corrected_bits += info.corrected_bits;
  }
  return info;
}

SimulatedChip::SectorRegion SimulatedChip::sector_region(std::uint32_t sector) const {
  const Geometry& g = geometry();
  SectorRegion region;
  region.main_begin = sector * config_.ecc.sector_size;
  region.spare_begin = g.page_size + sector * sector_spare_;
  region.spare_end = region.spare_begin + sector_spare_;
  if (sector == 0) region.spare_begin += kBadBlockMarkerBytes;
  return region;
}

}  // namespace vmodem::nand
