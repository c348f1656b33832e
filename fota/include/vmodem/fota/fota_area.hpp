// The FOTA area: a downloaded package waiting for the next boot, and the
// journal of the update that applies it.
//
// Layout (logical blocks of the FOTA partition, bad blocks skipped):
//   0, 1   journal: one ApplyProgress record per page, each with a sequence
//          number; appended in page order, moving to the other block (erased
//          first) when one is full. The newest valid record wins, so a torn
//          record costs at most a step back, and stepping back is safe: the
//          update rewrites from the start of a block.
//   2      staging header: a sealed record (package length, SHA-256),
//          written only after the whole package is stored: the "complete"
//          marker. Erasing this block withdraws the package.
//   3..    the package bytes, page after page.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/nand/geometry_problem.hpp>
#include <vmodem/nand/partition.hpp>

namespace vmodem::fota {

struct StagedPackage {
  std::vector<std::uint8_t> bytes;
  bool intact = false;  // the bytes match the SHA-256 stored at staging
};

class FotaArea {
 public:
  // Why a FOTA partition of geometry `g` (block_count: its blocks) cannot
  // serve, or nullopt: two journal blocks, the header block and at least one
  // package block; a journal record and the header in one page each.
  static std::optional<nand::GeometryProblem> geometry_problem(const nand::Geometry& g);

  // kAborted / kPowerLoss if the NAND failed, kInvalidInput if the partition
  // has fewer than four good blocks or geometry_problem() refuses its pages.
  static Result<std::unique_ptr<FotaArea>> open(nand::Device& device, nand::PartitionSpec spec);
  ~FotaArea();

  // Largest package stage() accepts.
  std::uint64_t capacity() const;

  // Stores `package` and marks it complete (header written last). The
  // previous package and journal are withdrawn first. kNoSpace beyond
  // capacity(), kAborted / kPowerLoss on a NAND failure (nothing staged then).
  Status stage(ByteView package);
  // The complete staged package, or nullopt. Errors: power loss only.
  Result<std::optional<StagedPackage>> staged();
  // Withdraws the staged package (header first), then the journal.
  Status clear();

  // The newest journal record of `package_id`, or nullopt.
  Result<std::optional<ApplyProgress>> last_progress(const Digest& package_id);
  // Appends a journal record.
  Status record_progress(const ApplyProgress& progress);

 private:
  FotaArea(std::unique_ptr<nand::Partition> partition);
  Status scan_journal();

  std::unique_ptr<nand::Partition> partition_;
  bool journal_scanned_ = false;
  std::uint64_t journal_seq_ = 0;
  std::uint32_t journal_block_ = 0;
  std::uint32_t journal_page_ = 0;  // next page to program in journal_block_
  std::optional<ApplyProgress> journal_last_;
};

}  // namespace vmodem::fota
