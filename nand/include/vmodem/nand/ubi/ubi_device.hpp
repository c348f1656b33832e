// A UBI device attached over an MTD partition, as Linux's ubi_attach()
// builds it: every physical eraseblock's (PEB's) headers are scanned once,
// the newest copy of each logical eraseblock (LEB) wins, and the volume
// table is read from the layout volume.
//
// This first part reads: the volumes of an image that ubinize made and
// flash_image() wrote attach and read back byte for byte. Writing LEBs
// (atomic change, wear-levelling, scrubbing, the bad-PEB reserve) builds on
// the same scan.
//
// Errors are nand::Error: the device's own (power_loss, ...) pass through;
// bad_image means the headers say the partition is not a usable UBI device,
// with the reason in detail and the PEB in block where one is to blame.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <vmodem/nand/device.hpp>
#include <vmodem/nand/ubi/media.hpp>

namespace vmodem::nand::ubi {

// The device's shape, as its EC headers state it (all must agree).
struct Layout {
  std::uint32_t peb_size = 0;
  std::uint32_t vid_hdr_offset = 0;
  std::uint32_t data_offset = 0;
  std::uint32_t leb_size = 0;  // peb_size - data_offset
  std::uint32_t image_seq = 0;
};

enum class PebState : std::uint8_t {
  bad,      // marked bad on the chip
  erased,   // no EC header: never formatted, or its erase was cut short
  free,     // an EC header and nothing else: ready for a LEB
  used,     // holds the current copy of a LEB
  stale,    // an older copy of a LEB, or a LEB of no volume: to be erased
  corrupt,  // a header that does not check: to be erased
};
const char* to_string(PebState state);

struct PebInfo {
  PebState state = PebState::erased;
  std::optional<std::uint64_t> erase_count;  // from its EC header, when that checks
  VidHeader vid;                             // used and stale PEBs
  bool bitflips = false;                     // ECC corrected bits in a header: due for scrubbing
};

inline constexpr std::uint32_t kUnmapped = 0xFFFFFFFF;

struct Volume {
  std::uint32_t id = 0;
  VtblRecord record;
  std::vector<std::uint32_t> eba;  // LEB -> PEB, kUnmapped where nothing is written
  std::uint32_t used_ebs = 0;      // static volumes: LEBs holding data
  std::uint64_t used_bytes = 0;    // static: the data's exact size; dynamic: reserved LEBs' size
};

class UbiDevice {
 public:
  // Scans every block of `mtd` (which must outlive the device). A partition
  // with no UBI headers at all attaches as an empty device (no volumes,
  // needs_format() true) as Linux does; headers that contradict each other
  // (offsets, image sequence numbers, two copies of a LEB with the same
  // sequence number), a missing or unreadable volume table when volumes
  // exist, or a LEB beyond its volume's size fail with bad_image.
  static Result<std::unique_ptr<UbiDevice>> attach(Device& mtd);

  const Layout& layout() const { return layout_; }
  const std::vector<Volume>& volumes() const { return volumes_; }
  const Volume* find(std::string_view name) const;
  const Volume* find(std::uint32_t id) const;
  const PebInfo& peb(std::uint32_t block) const { return pebs_[block]; }
  std::uint32_t peb_count() const { return static_cast<std::uint32_t>(pebs_.size()); }
  std::uint32_t count(PebState state) const;
  // The mean erase count of PEBs whose EC header checks (Linux gives it to
  // PEBs whose counter was lost).
  std::uint64_t mean_erase_count() const { return mean_ec_; }
  std::uint64_t max_sqnum() const { return max_sqnum_; }
  // True when no UBI header was found: the partition must be formatted.
  bool needs_format() const { return layout_.peb_size == 0; }
  // True when one copy of the volume table was unusable (the other was used).
  bool volume_table_degraded() const { return vtbl_degraded_; }

  // Reads out.size() bytes at `offset` of LEB `lnum` of volume `vol_id`; an
  // unmapped LEB reads as 0xFF. invalid_argument for an unknown volume or a
  // range outside the LEB; the device's errors (uncorrectable, ...) as is.
  Status read_leb(std::uint32_t vol_id, std::uint32_t lnum, std::uint32_t offset,
                  std::span<std::uint8_t> out);
  // The whole data of a static volume (used_bytes), each LEB checked against
  // the data CRC in its VID header. bad_image when a LEB is missing or does
  // not match, or an update of the volume was interrupted (upd_marker).
  Result<std::vector<std::uint8_t>> read_static_volume(std::uint32_t vol_id);

 private:
  explicit UbiDevice(Device& mtd) : mtd_(mtd) {}

  friend class Attacher;
  Device& mtd_;
  Layout layout_;
  std::vector<PebInfo> pebs_;
  std::vector<Volume> volumes_;
  std::uint64_t mean_ec_ = 0;
  std::uint64_t max_sqnum_ = 0;
  bool vtbl_degraded_ = false;
};

// What flash_image() did.
struct FlashReport {
  std::uint32_t image_pebs = 0;   // PEBs of the image written
  std::uint32_t formatted = 0;    // PEBs past the image given an EC header only
  std::uint32_t skipped_bad = 0;  // bad blocks stepped over (marked bad now or before)
  std::uint64_t pages_written = 0;
};

// What mtd-utils' ubiformat does with an image from ubinize: writes the
// image's PEBs to the good blocks of `mtd` in order, every other block
// formatted empty, keeping each block's erase counter (its old EC header's
// count + 1; the mean of the known ones where a header was lost). Pages
// that are all 0xFF at the end of a PEB are not programmed, so UBI can
// write them later. A block whose erase or program fails is marked bad and
// the PEB goes to the next good block.
// invalid_argument: the image is not whole PEBs of this device's size, its
// first PEB's EC header does not check, its data offset is not page-aligned,
// or it needs more PEBs than the partition's good blocks.
Result<FlashReport> flash_image(Device& mtd, std::span<const std::uint8_t> image);

}  // namespace vmodem::nand::ubi
