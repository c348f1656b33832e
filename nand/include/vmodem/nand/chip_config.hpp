// The physical behaviour of a simulated chip, as a profile describes it.
#pragma once

#include <cstdint>

namespace vmodem::nand {

// Datasheet timings. Virtual time advances by these on every operation.
struct Timing {
  std::uint32_t read_us = 25;               // tR: array to page register
  std::uint32_t program_us = 250;           // tPROG
  std::uint32_t erase_us = 2000;            // tBERS
  std::uint32_t transfer_ns_per_byte = 25;  // bus: ~40 MB/s (x8 at 25 ns/cycle)
};

// ECC engine: BCH-style correction of t bits per sector.
struct EccConfig {
  std::uint32_t sector_size = 512;  // main-area bytes per codeword
  std::uint32_t strength_bits = 4;  // t: correctable bits per sector
};

// Wear: program/erase failure probability rises with erase count; optional
// bit errors from wear and read disturb. All draws come from the chip's
// seeded generator, so a run replays with the same seed.
struct WearConfig {
  std::uint32_t endurance_cycles = 100000;
  // Probability that an erase or program fails once a block has seen
  // endurance_cycles erases; it grows as (erase_count / endurance)^4 before,
  // and keeps growing after, so early failures are rare but possible.
  double fail_probability_at_endurance = 0.01;
  bool wear_bit_errors = false;       // reads may pick up bit errors from wear
  double wear_bit_error_rate = 1e-4;  // per read at endurance, scales like above
  bool read_disturb = false;          // many reads of a block flip bits in its other pages
  std::uint32_t read_disturb_threshold = 100000;  // reads of a block since erase
  double read_disturb_rate = 1e-3;                // per read beyond the threshold
};

// What a torn operation may do besides its own page (profile switch).
struct TearConfig {
  // An interrupted program disturbs pages programmed earlier in the same
  // block (lower pages of a shared word line on real parts).
  bool program_disturbs_earlier_pages = false;
  std::uint32_t disturb_max_bits = 6;  // bits flipped per disturbed page, at most
};

struct ChipConfig {
  Timing timing;
  EccConfig ecc;
  WearConfig wear;
  TearConfig tear;
  std::uint64_t seed = 1;  // physics generator (wear, disturb, unstable reads, tears)
};

}  // namespace vmodem::nand
