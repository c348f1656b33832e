// Partitions: named block ranges of the chip, addressed logically.
//
// A Partition is a Device over a block range whose logical blocks are the
// range's good blocks in order (bad blocks skipped, as a bootloader reads a
// raw image). The mapping is fixed when the partition is opened (it scans the
// bad-block markers, one read per block) and only changes on rescan(): a
// block that goes bad while open keeps its logical index and is reported bad,
// so a file system above sees stable addresses until its next mount.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/nand/device.hpp>

namespace vmodem::nand {

struct PartitionSpec {
  std::string name;
  std::uint32_t first_block = 0;
  std::uint32_t block_count = 0;
  std::uint32_t end_block() const { return first_block + block_count; }
};

class PartitionTable {
 public:
  PartitionTable() = default;
  // Validates: names unique and non-empty, ranges non-empty, inside the chip,
  // not overlapping. invalid_argument with a message naming the partition.
  static Result<PartitionTable> create(std::vector<PartitionSpec> specs, const Geometry& chip);

  const PartitionSpec* find(std::string_view name) const;
  const PartitionSpec* containing(std::uint32_t physical_block) const;
  const std::vector<PartitionSpec>& entries() const { return specs_; }

 private:
  std::vector<PartitionSpec> specs_;
};

class Partition final : public Device {
 public:
  // Scans the bad-block markers of the range on `device` (which must outlive
  // the partition). Fails with the device's error (e.g. power_loss).
  static Result<std::unique_ptr<Partition>> open(Device& device, const PartitionSpec& spec);

  // Geometry with block_count = usable (good at scan) blocks.
  const Geometry& geometry() const override { return geometry_; }
  Result<ReadInfo> read(PageAddr addr, std::span<std::uint8_t> main,
                        std::span<std::uint8_t> spare) override;
  Result<ReadInfo> read_column(PageAddr addr, std::uint32_t column,
                               std::span<std::uint8_t> out) override;
  Status program(PageAddr addr, std::span<const std::uint8_t> main,
                 std::span<const std::uint8_t> spare) override;
  Status program_partial(PageAddr addr, std::uint32_t column,
                         std::span<const std::uint8_t> bytes) override;
  Status erase(std::uint32_t block) override;
  Result<bool> is_bad(std::uint32_t block) override;
  // Marks the logical block bad on the chip; it keeps its logical index.
  Status mark_bad(std::uint32_t block) override;

  // Re-reads the markers and rebuilds the logical -> physical mapping.
  Status rescan();

  const PartitionSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  std::uint32_t physical_block(std::uint32_t logical) const { return map_[logical]; }
  // Bad blocks in the range (physical numbers), as of the last scan plus any
  // marked through this partition since.
  const std::vector<std::uint32_t>& bad_blocks() const { return bad_; }
  Device& device() { return device_; }

 private:
  Partition(Device& device, PartitionSpec spec);
  Status check(std::uint32_t logical) const;
  PageAddr physical(PageAddr addr) const { return {map_[addr.block], addr.page}; }

  Device& device_;
  PartitionSpec spec_;
  Geometry geometry_;
  std::vector<std::uint32_t> map_;  // logical -> physical
  std::vector<std::uint32_t> bad_;
};

// What a flasher's "erase PARTITION" does (fastboot erase): every good block
// erased, whatever it held; a block whose erase fails is marked bad and the
// erase goes on. Errors: anything but erase_fail from the device (a power
// cut, an I/O error), the blocks before it erased.
struct PartitionErased {
  std::uint32_t erased = 0;
  std::uint32_t failed = 0;  // marked bad
};
Result<PartitionErased> erase_every_block(Partition& partition);

}  // namespace vmodem::nand
