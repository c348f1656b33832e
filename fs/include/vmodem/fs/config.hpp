// Limits and tuning of a file-system instance (from the module profile).
#pragma once

#include <cstdint>
#include <functional>

namespace vmodem::fs {

struct Config {
  std::uint32_t max_name = 64;             // bytes per path component
  std::uint64_t max_file_size = 4u << 20;  // bytes
  std::uint32_t max_open_files = 32;       // handles open at once
  std::uint32_t max_depth = 16;            // path components
  // A read whose worst ECC sector needed at least this many corrections gets
  // its page rewritten (scrubbed) before it becomes uncorrectable. Set it to
  // the chip's ECC strength - 1 (t = 4 -> 3).
  std::uint32_t scrub_threshold_bits = 3;
  // Erased blocks kept back so garbage collection and bad-block retirement
  // can always move data. At least 1.
  std::uint32_t reserve_blocks = 2;
  // Pages only metadata (commit headers, unlink, rename) may use, so a full
  // file system can still delete files.
  std::uint32_t meta_reserve_pages = 8;
  // Probe 9: more bad blocks than this percentage of the partition.
  std::uint32_t max_bad_block_percent = 20;
  // Static wear levelling: when the spread of erase counts exceeds this, the
  // coldest block is collected even if it is full of live data.
  std::uint32_t wear_level_threshold = 64;
  // Verify each data page's checksum on read (ECC already protects it).
  bool verify_data_checksums = true;
  // Modification time source (seconds); null = 0, for deterministic images.
  std::function<std::int64_t()> clock;
};

}  // namespace vmodem::fs
