// The module's firmware in NAND: named images in A/B slots and a boot record.
//
// Layout. Every firmware partition holds one image (named like the
// partition: tz, rpm, aboot, boot, modem) and is split into two halves by
// physical block: slot A (first half) and slot B (second half). A slot reads
// its good blocks in order, skipping bad ones, as a boot loader reads a raw
// image. The boot record partition (the profile's "mibib") holds the boot
// record in two copies (its first two good blocks), each a sealed record (see
// nand_records.hpp) with a generation number, the active slot, model,
// version, the package that installed it and the image table (name, size,
// SHA-256).
//
// Why A/B and not in place: an update writes only the inactive slot, so the
// running firmware stays intact and readable (the applier needs it as the
// patch source, also after a power cut) until a single page write, the new
// boot record, switches over. The two record copies are written
// alternately: the record being replaced is never the one the module boots
// from, so a cut while writing it leaves the old record in force.
//
// Boot picks the valid record with the highest generation and checks every
// image against its size and SHA-256; if that fails it falls back to the
// other record (the other slot). Nothing valid: load() says so (kBadPackage)
// and the caller decides (the simulator reinstalls the factory firmware).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/nand/partition.hpp>

namespace vmodem::fota {

struct FirmwareLayout {
  // One partition per image; the image has the partition's name.
  std::vector<nand::PartitionSpec> images;
  // Where the two boot record copies live (first two good blocks).
  nand::PartitionSpec boot_record;
};

struct BootRecord {
  static constexpr std::uint16_t kVersion = 1;
  std::uint64_t generation = 0;
  std::uint8_t slot = 0;  // 0 = A, 1 = B
  std::string model;
  std::string version;
  Digest installed_by{};  // header digest of the package that produced it (zeros: factory)
  std::vector<ImageIdentity> images;
  int copy = -1;  // which copy it was read from (not stored)

  Digest firmware_digest() const;
  std::vector<std::uint8_t> serialize() const;
  static std::optional<BootRecord> deserialize(ByteView page);  // a sealed record page
};

// The firmware a boot runs.
struct LoadedFirmware {
  BootRecord record;
  FirmwareBundle bundle;
  bool fell_back = false;  // the newest record failed its checks
  std::string why;         // what failed, when fell_back
};

// Images a boot already verified, kept across boots (a module keeps one):
// the bytes and the digest they hashed to. A later boot reading the same
// bytes for the same digest is answered by a byte compare instead of a
// SHA-256 (same answer, a tenth of the time: a power-cut campaign boots
// thousands of times over firmware the action never touches).
class VerifiedImages {
 public:
  // True when `data` hashes to `digest`. `key` names the image and its slot.
  bool verify(const std::string& key, std::span<const std::uint8_t> data, const Digest& digest);
  // The bytes `key` verified as `digest` at an earlier boot; nullptr when
  // there are none. Reading the flash page by page against them verifies
  // an unchanged image with no copy of it at all.
  const std::vector<std::uint8_t>* known(const std::string& key, const Digest& digest) const;

 private:
  struct Entry {
    Digest digest{};
    std::vector<std::uint8_t> data;
  };
  std::map<std::string, Entry> entries_;
};

class FirmwareStore {
 public:
  // Opens the partitions and reads both boot records. Errors: kAborted (the
  // NAND failed), kPowerLoss (it lost power), kInvalidInput (a slot smaller than one
  // block or no room for two record copies).
  static Result<std::unique_ptr<FirmwareStore>> open(nand::Device& device, FirmwareLayout layout);
  ~FirmwareStore();

  // The valid records, newest first (0, 1 or 2 of them).
  const std::vector<BootRecord>& records() const { return records_; }
  const FirmwareLayout& layout() const { return layout_; }
  bool has_image(std::string_view name) const;
  // Bytes image `name` can hold in `slot` (good blocks x block size).
  std::uint64_t capacity(std::string_view name, int slot) const;
  std::uint32_t page_size() const;
  std::uint64_t block_bytes() const;

  // Reads a record's images and checks them (size, SHA-256; through
  // `verified` when given). kBadPackage if an image does not match,
  // kAborted / kPowerLoss if the NAND failed.
  Result<FirmwareBundle> read(const BootRecord& record, VerifiedImages* verified = nullptr);
  // The firmware to boot: the newest record that verifies (see the file
  // comment). kBadPackage when none does.
  Result<LoadedFirmware> load(VerifiedImages* verified = nullptr);
  // The same check for a boot that needs only the record it runs on: every
  // image is read and verified as by load(), but the bundle's images are
  // left out (empty), and an image `verified` knows is compared page by
  // page as it is read, with no copy made.
  Result<LoadedFirmware> load_record(VerifiedImages* verified = nullptr);

  // Writes `bundle` into the slot `running` does not use and commits it
  // (generation above every record). `running` nullptr: slot A, nothing to
  // keep (manufacture). The images must fit their slots (kNoSpace).
  Status install(const FirmwareBundle& bundle, const BootRecord* running,
                 const Digest& installed_by = {});
  // Makes `next` (slot, model, version, images, installed_by) the record in
  // force: written into the copy that does not hold `keep` (the record the
  // module runs on), with the next generation. Re-reads the records.
  // Refused (the old record stays in force) when the newest generation is
  // already the largest a record can hold: it must never wrap to 0.
  Status commit(BootRecord next, const BootRecord* keep);

  // A sink writing target images into `slot`, page by page, erasing each
  // block as its first page comes (so a resumed image rewrites its block).
  std::unique_ptr<TargetSink> slot_writer(int slot);

 private:
  FirmwareStore(nand::Device& device, FirmwareLayout layout);
  Status reload_records();
  nand::Partition* slot(std::string_view name, int slot) const;
  enum class Keep : bool { record, images };
  Result<FirmwareBundle> read(const BootRecord& record, VerifiedImages* verified, Keep keep);
  Result<LoadedFirmware> load(VerifiedImages* verified, Keep keep);
  // Reads `size` bytes of `part` page by page, each page once, handing each
  // page's bytes (the last one cut to `size`) to sink(offset, bytes).
  template <typename Sink>
  Status read_pages(nand::Partition& part, const std::string& name, std::uint64_t size,
                    Sink&& sink);

  nand::Device& device_;
  FirmwareLayout layout_;
  std::unique_ptr<nand::Partition> record_partition_;
  std::vector<std::array<std::unique_ptr<nand::Partition>, 2>> slots_;  // per layout image
  std::vector<BootRecord> records_;
};

}  // namespace vmodem::fota
