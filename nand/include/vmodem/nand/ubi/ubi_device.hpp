// A UBI device over an MTD partition, as Linux's UBI runs it.
//
// Attach scans every physical eraseblock's (PEB's) headers once; the newest
// copy of each logical eraseblock (LEB) wins and the volume table is read
// from the layout volume. Writes then keep UBI's promises over a power cut
// at any NAND operation:
//   * a LEB is written in place, page by page, in a PEB it was given when
//     first written (unmapped LEBs read as 0xFF);
//   * change_leb() replaces a whole LEB atomically: the new copy goes to
//     another PEB with its data CRC, and only then is the old one erased, so
//     attach finds the old or the new contents, never a mix;
//   * a free PEB is erased and given its EC header (the counter + 1) before
//     use; the least-worn free PEB takes new data, and when the most-worn
//     free PEB is `wl_threshold` erases ahead of the least-worn PEB in use,
//     that PEB's LEB moves (wear-levelling);
//   * a read that needed ECC moves the LEB to a fresh PEB (scrubbing);
//   * a PEB whose program or erase fails is marked bad and replaced from the
//     bad-PEB reserve (Linux's 20 per 1024); with the reserve gone the
//     device turns read-only.
// Erases run at once, not in a background thread as on Linux, so where a
// power cut can strike is the same on every run.
//
// Errors are nand::Error: the device's own (power_loss, ...) pass through —
// after one, drop the object and attach again once the power is back;
// bad_image: the headers say the partition is not a usable UBI device (the
// reason in detail, the PEB in block where one is to blame); no_space: no
// PEB is left for a write; invalid_argument: a request outside the volumes.
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

struct Options {
  // Wear-levelling moves data when the most-worn free PEB is this many erases
  // ahead of the least-worn used one (Linux's CONFIG_MTD_UBI_WL_THRESHOLD).
  std::uint32_t wl_threshold = 4096;
  // PEBs kept for replacing bad ones, per 1024 PEBs of the partition
  // (CONFIG_MTD_UBI_BEB_LIMIT).
  std::uint32_t bad_peb_limit_per_1024 = 20;
  // The image sequence number format() writes.
  std::uint32_t image_seq = 1;
};

// What the device did since attach, for logs and tests.
struct Counters {
  std::uint64_t erases = 0;
  std::uint64_t wear_moves = 0;        // LEBs moved by wear-levelling
  std::uint64_t scrubs = 0;            // LEBs moved after a corrected read
  std::uint64_t bad_pebs = 0;          // PEBs marked bad
  std::uint64_t recovered_writes = 0;  // LEBs moved after a failed program
};

class UbiDevice {
 public:
  // Scans every block of `mtd` (which must outlive the device). A partition
  // with no UBI headers at all attaches as an empty device (no volumes,
  // needs_format() true) as Linux does; headers that contradict each other
  // (offsets, image sequence numbers, two copies of a LEB with the same
  // sequence number), a missing or unreadable volume table when volumes
  // exist, or a LEB beyond its volume's size fail with bad_image.
  static Result<std::unique_ptr<UbiDevice>> attach(Device& mtd, Options options = {});

  // Makes an unformatted or empty device usable: erases every PEB without an
  // EC header and gives it one (for 2 KiB-page NAND: VID header at 2048,
  // data at 4096, as ubiformat does) and writes an empty volume table.
  // Nothing is lost that attach found: refused (invalid_argument) when
  // volumes exist.
  Status format();

  // Adds a volume to the table (change_leb of both layout LEBs, so a cut
  // leaves the old or the new table). invalid_argument: the name is empty,
  // too long or taken, `id` is taken or out of range; no_space: not enough
  // PEBs beyond those of the other volumes and the reserves.
  Status create_volume(std::uint32_t id, std::string_view name, VolumeType type,
                       std::uint32_t reserved_pebs, std::uint8_t flags = 0);

  // Writes `data` at `offset` of LEB `lnum` of a dynamic volume. offset and
  // data.size() must be multiples of the page size, and the pages must not
  // have been written since the LEB was last unmapped (UBI writes each page
  // once). An unmapped LEB gets a PEB first.
  Status write_leb(std::uint32_t vol_id, std::uint32_t lnum, std::uint32_t offset,
                   std::span<const std::uint8_t> data);
  // Replaces LEB `lnum` with `data` (at most leb_size bytes) atomically.
  Status change_leb(std::uint32_t vol_id, std::uint32_t lnum, std::span<const std::uint8_t> data);
  // Forgets LEB `lnum`: it reads as 0xFF and its PEB is erased.
  Status unmap_leb(std::uint32_t vol_id, std::uint32_t lnum);
  bool is_mapped(std::uint32_t vol_id, std::uint32_t lnum) const;
  bool read_only() const { return read_only_; }
  const Counters& counters() const { return counters_; }
  // PEBs not holding a LEB and not reserved: what create_volume can give.
  std::uint32_t available_pebs() const;

  const Layout& layout() const { return layout_; }
  const Geometry& mtd_geometry() const { return mtd_.geometry(); }
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
  // True when there is no volume table (no UBI header at all, or formatted
  // by ubiformat without an image): format() makes one.
  bool needs_format() const { return !has_table_; }
  // True when one copy of the volume table was unusable (the other was used).
  bool volume_table_degraded() const { return vtbl_degraded_; }

  // Reads out.size() bytes at `offset` of LEB `lnum` of volume `vol_id`; an
  // unmapped LEB reads as 0xFF. invalid_argument for an unknown volume or a
  // range outside the LEB; the device's errors (uncorrectable, ...) as is.
  // A read that ECC had to correct moves the LEB to another PEB first.
  Status read_leb(std::uint32_t vol_id, std::uint32_t lnum, std::uint32_t offset,
                  std::span<std::uint8_t> out);
  // The whole data of a static volume (used_bytes), each LEB checked against
  // the data CRC in its VID header. bad_image when a LEB is missing or does
  // not match, or an update of the volume was interrupted (upd_marker).
  Result<std::vector<std::uint8_t>> read_static_volume(std::uint32_t vol_id);

 private:
  UbiDevice(Device& mtd, Options options);

  // Private parts, each in its own file: attach.cpp, eba.cpp (LEB reads
  // and writes), wl.cpp (PEB choice, erase, wear-levelling, scrubbing, bad
  // PEBs), vtbl.cpp (format, volume table).
  Volume* volume(std::uint32_t vol_id);
  Result<Volume*> writable(std::uint32_t vol_id, std::uint32_t lnum);
  VidHeader next_vid(const Volume& volume, std::uint32_t lnum);
  Result<std::uint32_t> place_leb(Volume& volume, std::uint32_t lnum, const VidHeader& vid,
                                  std::span<const std::uint8_t> data);
  Status program_or_recover(Volume& volume, std::uint32_t lnum, std::uint32_t offset,
                            std::span<const std::uint8_t> data);
  Status program_pages(std::uint32_t peb, std::uint32_t offset, std::span<const std::uint8_t> data);
  Status write_vid(std::uint32_t peb, const VidHeader& vid);
  Status write_copy(std::uint32_t peb, const VidHeader& vid, std::span<const std::uint8_t> data);
  Result<std::uint32_t> take_free_peb();
  Status erase_peb(std::uint32_t peb);
  Status release_peb(std::uint32_t peb);
  Status retire_peb(std::uint32_t peb);
  Status move_leb(std::uint32_t from, std::optional<std::uint32_t> to);
  Status wear_level();
  Status after_read(std::uint32_t peb, bool flips);
  std::uint32_t bad_peb_limit() const;
  std::uint32_t vtbl_slots() const;
  std::vector<VtblRecord> volume_table() const;
  Status write_volume_table(const std::vector<VtblRecord>& table);

  friend class Attacher;
  Device& mtd_;
  Options options_;
  Counters counters_;
  bool read_only_ = false;
  bool has_table_ = false;  // a volume table was found or written
  bool moving_ = false;     // inside move_leb(): no wear-levelling or scrub of its own
  Volume layout_volume_;    // the two LEBs of the volume table
  Layout layout_;
  std::vector<PebInfo> pebs_;
  std::vector<Volume> volumes_;
  std::uint64_t mean_ec_ = 0;
  std::uint64_t max_sqnum_ = 0;
  bool vtbl_degraded_ = false;
};

// A UBI device with the volume a partition is meant to hold.
struct OpenedVolume {
  std::unique_ptr<UbiDevice> ubi;
  std::uint32_t volume_id = 0;
  // Why the device was formatted on the way ("" when it attached with the
  // volume): what a Linux module's boot script says when the kernel could
  // not use the partition.
  std::string formatted_because;
};

// What a Linux module's boot does with a UBI partition (find_partitions):
// attach, and when that fails, or the device has no volume table, or no
// volume named `name`, format it (everything on it is lost; the erase
// counters too when attach refused the device) and create `name` as a
// dynamic volume of all the PEBs there are. Errors: the device's (power_loss, ...), no_space
// when the partition is too small for UBI.
Result<OpenedVolume> attach_or_format(Device& mtd, std::string_view name, Options options = {});

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

// flash_image()'s checks of the image alone, against a partition of shape
// `g` (block_count: its usable blocks), without touching a device.
Status check_image(const Geometry& g, std::span<const std::uint8_t> image);

}  // namespace vmodem::nand::ubi
