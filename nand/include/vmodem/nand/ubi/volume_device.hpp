// A UBI volume seen as a NAND device, so a file system written for raw NAND
// runs inside it (as UBIFS runs on a UBI volume on the module; vmodem runs
// its own NAND file system there instead, a documented simplification).
//
// The volume's LEBs are the device's blocks and each min-I/O unit (NAND
// page) of a LEB one device page. UBI volumes have no out-of-band area, so
// the device's spare area lives in-band: each page keeps its last
// kInBandSpare bytes for it and offers the rest as the main area (2048-byte
// NAND pages: 1984 main + 64 spare). What UBI gives a file system, it gets:
//   * erase(block) unmaps the LEB (its PEB is erased; the LEB reads 0xFF);
//   * program() writes one page once, in ascending order, as on NAND (NOP 1:
//     program_partial is refused);
//   * no bad blocks: UBI retires failing PEBs and moves their data, so
//     is_bad() is false and mark_bad() does nothing;
//   * reads that needed ECC are scrubbed by UBI itself.
// Errors are UBI's (UbiDevice); power_loss means the UbiDevice must be
// attached again once the power is back, and this device with it.
#pragma once

#include <cstdint>
#include <vector>

#include <vmodem/nand/device.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>

namespace vmodem::nand::ubi {

inline constexpr std::uint32_t kInBandSpare = 64;

class VolumeDevice final : public Device {
 public:
  // `ubi` must outlive the device and hold volume `vol_id` (a dynamic one).
  VolumeDevice(UbiDevice& ubi, std::uint32_t vol_id);

  const Geometry& geometry() const override { return geometry_; }
  Result<ReadInfo> read(PageAddr addr, std::span<std::uint8_t> main,
                        std::span<std::uint8_t> spare) override;
  Status program(PageAddr addr, std::span<const std::uint8_t> main,
                 std::span<const std::uint8_t> spare) override;
  Status program_partial(PageAddr addr, std::uint32_t column,
                         std::span<const std::uint8_t> bytes) override;
  Status erase(std::uint32_t block) override;
  Result<bool> is_bad(std::uint32_t block) override;
  Status mark_bad(std::uint32_t block) override;

  std::uint32_t vol_id() const { return vol_id_; }

 private:
  Status check(PageAddr addr) const;

  UbiDevice& ubi_;
  std::uint32_t vol_id_;
  std::uint32_t unit_;  // the NAND page: one device page of main + spare
  Geometry geometry_;
  std::vector<std::uint8_t> unit_buffer_;  // one unit, for reads with spare and programs
};

}  // namespace vmodem::nand::ubi
