// Integrity checks: the boot probe points 1-9 of SPEC §4.
//
// A check failure names the probe, where it was found (block, page, object,
// path) and why. Checks exist for damage the file system cannot explain by
// its own design: a torn last write after a power cut is explained (mount
// succeeds and shows the previous committed state); an unreadable page in the
// middle of a block that still holds live data, a checksum that is wrong on a
// cleanly read page, or a tree that references missing objects is not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmodem::fs {

enum class Probe : std::uint8_t {
  superblock_unreadable = 1,  // device/partition unreadable or no readable superblock
  bad_format = 2,             // format marker, version, geometry or superblock checksum wrong
  metadata_ecc = 3,           // uncorrectable ECC in metadata (or in live data, deep check)
  torn_log = 4,               // torn or out-of-order log: sequence numbers, tag checksums
  object_tree = 5,            // orphans, missing parent, duplicate names, cycles
  file_length = 6,            // a file's length disagrees with its data
  critical_missing = 7,       // a listed critical file is missing
  critical_checksum = 8,      // a listed critical file's checksum is wrong
  no_space = 9,               // no free blocks / too many bad blocks to run
  // Found only by a deep check (fsck --deep reads every live data page; a
  // mount never does): data errors, not boot probe points.
  data_ecc = 11,       // a live data page is uncorrectable
  data_checksum = 12,  // a live data page's checksum is wrong
};

// Stable snake_case name of a probe ("metadata_ecc", ...).
std::string_view probe_name(Probe probe);

struct CheckFailure {
  Probe probe;
  std::int64_t block = -1;   // partition (logical) block, -1 when not about one block
  std::int64_t page = -1;    // page in block, -1 when not about one page
  std::uint32_t object = 0;  // object id, 0 when not about one object
  std::string path;          // file path when known
  std::string message;

  // The boot probe point (1-9), or 0 for a data error of a deep check.
  int number() const { return is_data_error() ? 0 : static_cast<int>(probe); }
  bool is_data_error() const { return probe == Probe::data_ecc || probe == Probe::data_checksum; }
  std::string_view name() const { return probe_name(probe); }
  // "probe 3 metadata_ecc at block 4 page 7 object 12 (/a/b): ...", or
  // "data error data_ecc at block ...". With `physical_block` (the chip's
  // number of `block`): "at block 4 (physical 1030)".
  std::string describe(std::int64_t physical_block = -1) const;
};

// A file whose presence and content the module needs to boot (profile list).
struct CriticalFile {
  std::string path;
  std::uint32_t crc32 = 0;  // zlib/IEEE CRC-32 of the whole content
  bool check_crc = true;    // false: only presence is checked (probe 7)
};

struct CheckOptions {
  std::vector<CriticalFile> critical;  // probes 7 and 8
  // Also read every live data page and verify its checksum (slower; mount
  // never does this, fsck can).
  bool deep = false;
};

// Everything the checks found, in probe order (lowest probe first).
struct CheckReport {
  std::vector<CheckFailure> failures;
  // Explained, harmless findings (torn tail pages, blocks left half-erased by
  // a cut): counted, not failures.
  std::uint32_t torn_pages_explained = 0;
  std::uint32_t pages_scanned = 0;
  std::uint32_t objects = 0;

  bool ok() const { return failures.empty(); }
  const CheckFailure* first() const { return failures.empty() ? nullptr : &failures.front(); }
};

}  // namespace vmodem::fs
