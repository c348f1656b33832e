#include <algorithm>
#include <limits>

#include <vmodem/fota/fota_area.hpp>

#include "byte_io.hpp"
#include "nand_records.hpp"

namespace vmodem::fota {

namespace {

constexpr std::string_view kHeaderMagic = "VMST";
constexpr std::string_view kJournalMagic = "VMJL";
constexpr std::uint32_t kJournalBlocks = 2;
constexpr std::uint32_t kHeaderBlock = 2;
constexpr std::uint32_t kDataBlock = 3;
// Record bodies: the staging header (u64 length, SHA-256) and a journal
// entry (u64 sequence number, ApplyProgress).
constexpr std::size_t kHeaderBodyBytes = 8 + 32;
constexpr std::size_t kJournalBodyBytes = 8 + ApplyProgress::kSerializedSize;

}  // namespace

FotaArea::FotaArea(std::unique_ptr<nand::Partition> partition) : partition_(std::move(partition)) {}
FotaArea::~FotaArea() = default;

std::optional<nand::GeometryProblem> FotaArea::geometry_problem(const nand::Geometry& g) {
  // A sealed record: magic, length, body, 8 bytes of digest (nand_records.hpp).
  constexpr std::size_t kRecordOverhead = 4 + 4 + 8;
  constexpr std::size_t kLargestRecord =
      kRecordOverhead + std::max(kJournalBodyBytes, kHeaderBodyBytes);
  if (g.page_size < kLargestRecord) {
    return nand::GeometryProblem{
        nand::GeometryProblem::Field::page_size,
        "a FOTA journal record (" + std::to_string(kLargestRecord) + " bytes) must fit in a page"};
  }
  if (g.block_count <= kDataBlock) {
    return nand::GeometryProblem{nand::GeometryProblem::Field::blocks,
                                 "the FOTA area needs at least " + std::to_string(kDataBlock + 1) +
                                     " blocks (2 journal, 1 header, package blocks)"};
  }
  return std::nullopt;
}

Result<std::unique_ptr<FotaArea>> FotaArea::open(nand::Device& device, nand::PartitionSpec spec) {
  auto partition = nand::Partition::open(device, spec);
  if (!partition) return detail::nand_failure("FOTA partition", partition.error());
  if (auto problem = geometry_problem((*partition)->geometry())) {
    return fail(
        ErrorCode::kInvalidInput,
        problem->message + " (" + std::to_string((*partition)->geometry().block_count) + " good)");
  }
  return std::unique_ptr<FotaArea>(new FotaArea(std::move(*partition)));
}

std::uint64_t FotaArea::capacity() const {
  const auto& g = partition_->geometry();
  return std::uint64_t{g.block_count - kDataBlock} * g.block_bytes();
}

Status FotaArea::stage(ByteView package) {
  if (package.size() > capacity()) {
    return fail(ErrorCode::kNoSpace, "package of " + std::to_string(package.size()) +
                                         " bytes, the FOTA area holds " +
                                         std::to_string(capacity()));
  }
  if (auto st = clear(); !st) return st;
  const auto& g = partition_->geometry();
  for (std::uint64_t offset = 0; offset < package.size(); offset += g.page_size) {
    const std::uint64_t n = offset / g.page_size;
    const nand::PageAddr addr{kDataBlock + static_cast<std::uint32_t>(n / g.pages_per_block),
                              static_cast<std::uint32_t>(n % g.pages_per_block)};
    if (addr.page == 0) {
      if (auto st = partition_->erase(addr.block); !st) {
        return detail::nand_failure("erasing the FOTA area", st.error());
      }
    }
    const auto take = std::min<std::uint64_t>(g.page_size, package.size() - offset);
    if (auto st = detail::program_page(*partition_, addr, package.subspan(offset, take),
                                       "storing the package");
        !st) {
      return st;
    }
  }
  detail::Bytes body;
  detail::put_u64(body, package.size());
  detail::put_bytes(body, sha256(package));
  return detail::write_sealed(*partition_, kHeaderBlock, detail::seal_record(kHeaderMagic, body),
                              "writing the staging header");
}

Result<std::optional<StagedPackage>> FotaArea::staged() {
  auto header = detail::read_sealed(*partition_, kHeaderBlock);
  if (!header) return tl::unexpected(header.error());
  if (!*header) return std::optional<StagedPackage>{};
  auto body = detail::open_record(kHeaderMagic, **header);
  if (!body || body->size() != 40) return std::optional<StagedPackage>{};
  detail::Reader r(*body);
  const std::uint64_t length = r.u64();
  Digest digest{};
  const auto d = r.bytes(32);
  std::copy(d.begin(), d.end(), digest.begin());
  StagedPackage staged;
  if (length > capacity()) return std::optional<StagedPackage>{std::move(staged)};
  const auto& g = partition_->geometry();
  staged.bytes.resize(length);
  std::vector<std::uint8_t> page(g.page_size);
  for (std::uint64_t offset = 0; offset < length; offset += g.page_size) {
    const std::uint64_t n = offset / g.page_size;
    const nand::PageAddr addr{kDataBlock + static_cast<std::uint32_t>(n / g.pages_per_block),
                              static_cast<std::uint32_t>(n % g.pages_per_block)};
    auto ok = partition_->read(addr, page, {});
    if (!ok && ok.error().code == nand::Errc::power_loss) {
      return detail::nand_failure("reading the package", ok.error());
    }
    // An uncorrectable page keeps its raw bits: the digest check catches it.
    const auto take = std::min<std::uint64_t>(g.page_size, length - offset);
    std::copy_n(page.begin(), take, staged.bytes.begin() + static_cast<std::ptrdiff_t>(offset));
  }
  staged.intact = sha256(staged.bytes) == digest;
  return std::optional<StagedPackage>{std::move(staged)};
}

Status FotaArea::clear() {
  if (auto st = partition_->erase(kHeaderBlock); !st) {
    return detail::nand_failure("withdrawing the package", st.error());
  }
  for (std::uint32_t b = 0; b < kJournalBlocks; ++b) {
    if (auto st = partition_->erase(b); !st) {
      return detail::nand_failure("clearing the journal", st.error());
    }
  }
  journal_scanned_ = true;
  journal_seq_ = 0;
  journal_block_ = 0;
  journal_page_ = 0;
  journal_last_.reset();
  return {};
}

Status FotaArea::scan_journal() {
  const auto& g = partition_->geometry();
  std::vector<std::uint8_t> page(g.page_size);
  journal_seq_ = 0;
  journal_block_ = 0;
  journal_page_ = 0;
  journal_last_.reset();
  bool found = false;
  for (std::uint32_t b = 0; b < kJournalBlocks; ++b) {
    std::uint32_t next = 0;  // first page after the last programmed one
    std::optional<std::uint64_t> best_seq;
    std::optional<ApplyProgress> best;
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      auto ok = partition_->read({b, p}, page, {});
      if (!ok && ok.error().code == nand::Errc::power_loss) {
        return detail::nand_failure("reading the journal", ok.error());
      }
      if (ok && detail::all_erased(page)) break;
      next = p + 1;
      if (!ok) continue;  // torn: skip it, the records after it still count
      auto body = detail::open_record(kJournalMagic, page);
      if (!body || body->size() != 8 + ApplyProgress::kSerializedSize) continue;
      detail::Reader r(*body);
      const std::uint64_t seq = r.u64();
      auto progress = ApplyProgress::deserialize(r.bytes(ApplyProgress::kSerializedSize));
      if (!progress) continue;
      if (!best_seq || seq > *best_seq) {
        best_seq = seq;
        best = *progress;
      }
    }
    if (best_seq && (!found || *best_seq > journal_seq_)) {
      found = true;
      journal_seq_ = *best_seq;
      journal_last_ = best;
      journal_block_ = b;
      journal_page_ = next;
    } else if (!found && next > journal_page_) {
      // Only torn pages so far: append after them.
      journal_block_ = b;
      journal_page_ = next;
    }
  }
  journal_scanned_ = true;
  return {};
}

Result<std::optional<ApplyProgress>> FotaArea::last_progress(const Digest& package_id) {
  if (!journal_scanned_) {
    if (auto st = scan_journal(); !st) return tl::unexpected(st.error());
  }
  if (journal_last_ && journal_last_->package_id == package_id) return journal_last_;
  return std::optional<ApplyProgress>{};
}

Status FotaArea::record_progress(const ApplyProgress& progress) {
  if (!journal_scanned_) {
    if (auto st = scan_journal(); !st) return st;
  }
  const auto& g = partition_->geometry();
  if (journal_seq_ == std::numeric_limits<std::uint64_t>::max()) {
    // Only a journal this area did not write gets here (sequence numbers
    // count up from 1): wrapping to 0 would leave its record the newest.
    // Start afresh; a cut before the new record costs a restart of the
    // update, never its safety.
    for (std::uint32_t b = 0; b < kJournalBlocks; ++b) {
      if (auto st = partition_->erase(b); !st) {
        return detail::nand_failure("clearing the journal", st.error());
      }
    }
    journal_seq_ = 0;
    journal_block_ = 0;
    journal_page_ = 0;
  }
  if (journal_page_ >= g.pages_per_block) {
    // This block is full: continue in the other one, erased first. The
    // records of the full block stay valid until the new one holds a record.
    journal_block_ = (journal_block_ + 1) % kJournalBlocks;
    journal_page_ = 0;
    if (auto st = partition_->erase(journal_block_); !st) {
      return detail::nand_failure("erasing the journal", st.error());
    }
  }
  detail::Bytes body;
  detail::put_u64(body, journal_seq_ + 1);
  detail::put_bytes(body, progress.serialize());
  const nand::PageAddr addr{journal_block_, journal_page_};
  ++journal_page_;  // a failed program still used the page
  if (auto st = detail::program_page(*partition_, addr, detail::seal_record(kJournalMagic, body),
                                     "writing the journal");
      !st) {
    return st;
  }
  ++journal_seq_;
  journal_last_ = progress;
  return {};
}

}  // namespace vmodem::fota
