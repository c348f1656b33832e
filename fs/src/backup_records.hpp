// Info records of a backup (private): the on-flash record and its two-lane log.
//
// Layout of the info partition: its good blocks (at open) split into two
// lanes, the first half and the second half. Every record is one page (main
// area: RecordImage, rest 0xFF; spare untouched) appended to lane 0, then to
// lane 1. A lane is a log over its blocks: pages in order, and when the
// current block is full the next block of the lane (round-robin) is erased
// and written from page 0. Reading scans every page of every good block and
// keeps the valid record with the highest generation.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/errors.hpp>
#include <vmodem/nand/device.hpp>

namespace vmodem::fs::backup_detail {

inline constexpr std::uint32_t kRecordMagic = 0x494B4256;  // "VBKI"
inline constexpr std::uint16_t kRecordVersion = 1;

// Little-endian, fixed size; the CRC-32 covers every byte before `crc`.
struct RecordImage {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t size;  // sizeof(RecordImage)
  std::uint64_t generation;
  std::uint8_t valid;
  std::uint8_t restore_pending;
  std::uint8_t restore_in_progress;
  std::uint8_t restore_probe;
  std::uint32_t backup_count;
  std::uint32_t restore_count;
  std::uint32_t probe_counts[kProbePoints];
  std::uint32_t page_count;
  std::uint32_t data_bad;
  std::uint32_t info_bad;
  std::uint32_t boot_attempts;
  std::uint32_t data_generation;  // tag generation of the valid image's pages
  std::uint32_t image_bytes;      // compressed archive length
  std::uint32_t image_crc;        // CRC-32 of the compressed archive
  std::uint32_t image_pages;
  std::uint32_t image_blocks;
  std::uint32_t files;
  std::uint32_t reserved[4];
  std::uint32_t crc;
};
static_assert(sizeof(RecordImage) == 128);

// Fills magic/version/size/crc; decode checks them.
void seal(RecordImage& record);
bool decode(const std::uint8_t* page, std::size_t size, RecordImage& out);

class InfoLog {
 public:
  // Scans `device`. Errors: power_loss, io_error (no good block).
  static Result<InfoLog> open(nand::Device& device);

  const std::optional<RecordImage>& newest() const { return newest_; }
  // Appends `record` with generation newest+1 to both lanes. Succeeds when
  // at least one lane took it (a lane whose blocks all failed is dropped).
  Status append(RecordImage record);
  std::uint32_t bad_blocks() const { return bad_blocks_; }
  std::uint64_t writes() const { return writes_; }

 private:
  struct Lane {
    std::vector<std::uint32_t> blocks;
    int current = -1;  // index into blocks; -1 = none yet (erase blocks[0] first)
    std::uint32_t next_page = 0;
  };
  explicit InfoLog(nand::Device& device) : device_(&device) {}
  Status write_lane(Lane& lane, const std::vector<std::uint8_t>& page);
  void retire(Lane& lane, std::size_t index);

  nand::Device* device_;
  std::vector<Lane> lanes_;
  std::optional<RecordImage> newest_;
  std::uint32_t bad_blocks_ = 0;
  std::uint64_t writes_ = 0;
};

// nand -> fs error (power_loss stays power_loss; the rest are io_error).
Error from_nand(const nand::Error& error, const char* what);

}  // namespace vmodem::fs::backup_detail
