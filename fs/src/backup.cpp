// BackupEngine: backup, restore, info records, boot decisions (see backup.hpp).
#include <algorithm>

#include <vmodem/fs/backup.hpp>

#include "backup_archive.hpp"
#include "backup_data.hpp"
#include "backup_records.hpp"

namespace vmodem::fs {

using namespace backup_detail;

BadBlockReport bad_block_report(const BackupInfo& modem, const BackupInfo& ap) {
  return {modem.data_bad_blocks, modem.info_bad_blocks, ap.data_bad_blocks, ap.info_bad_blocks};
}

struct BackupEngine::Impl {
  nand::Device& fs_device;
  nand::Device& data;
  nand::Device& info_device;
  BackupOptions options;
  InfoLog log;
  RecordImage current{};  // newest record (zeros before the first)
  std::uint32_t data_bad = 0;
  bool dead = false;

  // Every error path funnels through here so a power loss kills the engine.
  template <class T>
  T check(T result) {
    if (!result && result.error().code == Errc::power_loss) dead = true;
    return result;
  }
  Status write(RecordImage record) {
    record.data_bad = data_bad;
    auto s = check(log.append(record));
    if (s) current = *log.newest();
    return s;
  }
  Status alive() const {
    if (dead) return fail(Errc::power_loss, "backup engine lost power; open it again");
    return {};
  }
};

BackupEngine::BackupEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BackupEngine::~BackupEngine() = default;

std::optional<nand::GeometryProblem> BackupEngine::data_geometry_problem(
    const nand::Geometry& g, const BackupOptions& options) {
  if (g.spare_size < kDataTagEnd) {
    return nand::GeometryProblem{
        nand::GeometryProblem::Field::spare_size,
        "backup data pages carry a " + std::to_string(sizeof(DataTag)) + "-byte tag after the " +
            std::to_string(nand::kBadBlockMarkerBytes) + " bad-block marker bytes: at least " +
            std::to_string(kDataTagEnd) + " spare bytes per page"};
  }
  if (g.block_count < options.reserve_blocks + 1) {
    return nand::GeometryProblem{
        nand::GeometryProblem::Field::blocks,
        "a backup data partition needs at least " + std::to_string(options.reserve_blocks + 1) +
            " blocks (reserve_blocks " + std::to_string(options.reserve_blocks) + " + 1)"};
  }
  return std::nullopt;
}

std::optional<nand::GeometryProblem> BackupEngine::info_geometry_problem(const nand::Geometry& g) {
  if (g.page_size < sizeof(RecordImage)) {
    return nand::GeometryProblem{nand::GeometryProblem::Field::page_size,
                                 "a backup info record (" + std::to_string(sizeof(RecordImage)) +
                                     " bytes) must fit in a page"};
  }
  return std::nullopt;
}

Result<std::unique_ptr<BackupEngine>> BackupEngine::open(nand::Device& fs_device,
                                                         nand::Device& data_device,
                                                         nand::Device& info_device,
                                                         BackupOptions options) {
  // Pages and spare areas only: bad blocks may leave fewer good data blocks
  // than the rule asks of the partition, which backup() reports as no_space.
  for (const auto& problem : {data_geometry_problem(data_device.geometry(), options),
                              info_geometry_problem(info_device.geometry())}) {
    if (problem && problem->field != nand::GeometryProblem::Field::blocks)
      return fail(Errc::unsupported, problem->message);
  }
  auto log = InfoLog::open(info_device);
  if (!log) return tl::unexpected(log.error());
  auto scan = scan_data(data_device, 0);
  if (!scan) return tl::unexpected(scan.error());
  if (scan->good.empty()) return fail(Errc::io_error, "backup data partition has no good block");
  auto impl = std::unique_ptr<Impl>(
      new Impl{fs_device, data_device, info_device, std::move(options), std::move(*log)});
  if (impl->log.newest()) impl->current = *impl->log.newest();
  impl->data_bad = scan->bad;
  return std::unique_ptr<BackupEngine>(new BackupEngine(std::move(impl)));
}

Status BackupEngine::backup(FileSystem& fs) {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  auto stat = fs.statfs();
  if (!stat) return m.check(Status(tl::unexpected(stat.error())));
  auto tree = read_tree(fs);
  if (!tree) return m.check(Status(tl::unexpected(tree.error())));
  auto image = encode_image(*tree, m.options.compression_level);
  if (!image) return tl::unexpected(image.error());

  const bool had_valid = m.current.valid != 0;
  auto scan = m.check(scan_data(m.data, had_valid ? m.current.data_generation : 0));
  if (!scan) return tl::unexpected(scan.error());
  m.data_bad = scan->bad;
  const auto& g = m.data.geometry();
  const std::uint32_t needed = blocks_for(g, image->size());
  const auto good = static_cast<std::uint32_t>(scan->good.size());
  if (needed + m.options.reserve_blocks > good)
    return fail(Errc::no_space, "backup needs " + std::to_string(needed) +
                                    " blocks, data partition has " + std::to_string(good) +
                                    " good blocks (" + std::to_string(m.options.reserve_blocks) +
                                    " reserved)");

  // Blocks of the valid image last, so the old image survives as long as it
  // can; start after it so successive backups rotate over the partition.
  const std::vector<std::uint32_t> old = had_valid ? scan->image : std::vector<std::uint32_t>{};
  std::vector<std::uint32_t> fresh, candidates;
  const std::uint32_t after = old.empty() ? 0 : *std::max_element(old.begin(), old.end()) + 1;
  for (std::size_t i = 0; i < scan->good.size(); ++i) {
    const std::uint32_t b =
        scan->good[(std::lower_bound(scan->good.begin(), scan->good.end(), after) -
                    scan->good.begin() + i) %
                   scan->good.size()];
    if (std::find(old.begin(), old.end(), b) == old.end()) fresh.push_back(b);
  }
  candidates = fresh;
  if (m.options.mode == PowerLossMode::safe && had_valid) {
    if (needed > fresh.size())
      return fail(Errc::no_space, "safe backup: the new image (" + std::to_string(needed) +
                                      " blocks) does not fit beside the valid one (" +
                                      std::to_string(old.size()) + " blocks)");
  } else {
    candidates.insert(candidates.end(), old.begin(), old.end());
  }

  // The start record reserves a data generation no earlier attempt used; in
  // real mode it also clears the valid flag before any data block is erased.
  RecordImage start = m.current;
  if (m.options.mode == PowerLossMode::real) start.valid = 0;
  if (auto s = m.write(start); !s) return s;
  const auto generation = static_cast<std::uint32_t>(m.current.generation);

  auto written = m.check(write_image(m.data, *image, generation, candidates));
  if (!written) return tl::unexpected(written.error());
  m.data_bad += written->failed;
  const std::uint32_t crc = crc32(*image);
  const auto bytes = static_cast<std::uint32_t>(image->size());
  if (auto back = m.check(read_image(m.data, generation, bytes, crc)); !back)
    return tl::unexpected(back.error());

  RecordImage done = m.current;
  done.valid = 1;
  done.backup_count += 1;
  done.page_count = stat->pages_in_use;
  done.data_generation = generation;
  done.image_bytes = bytes;
  done.image_crc = crc;
  done.image_pages = static_cast<std::uint32_t>((image->size() + g.page_size - 1) / g.page_size);
  done.image_blocks = needed;
  done.files = tree->files();
  return m.write(done);
}

Status BackupEngine::schedule_restore() {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  if (!m.current.valid) return fail(Errc::not_found, "no valid backup to restore");
  if (m.current.restore_pending) return {};
  RecordImage r = m.current;
  r.restore_pending = 1;
  return m.write(r);
}

Status BackupEngine::restore(int probe) {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  if (probe < 0 || probe > kProbePoints) return fail(Errc::invalid_argument, "probe out of range");
  if (!m.current.valid) return fail(Errc::not_found, "no valid backup to restore");
  // Verify the whole image before the partition is touched.
  auto image = m.check(
      read_image(m.data, m.current.data_generation, m.current.image_bytes, m.current.image_crc));
  if (!image) return tl::unexpected(image.error());
  auto archive = decode_image(*image);
  if (!archive) return tl::unexpected(archive.error());

  RecordImage marker = m.current;
  marker.restore_in_progress = 1;
  marker.restore_probe = static_cast<std::uint8_t>(probe);
  if (!(m.current.restore_in_progress && m.current.restore_probe == probe)) {
    if (auto s = m.write(marker); !s) return s;
  }

  if (auto s = m.check(FileSystem::format(m.fs_device, m.options.fs_config, m.options.format)); !s)
    return s;
  {
    auto fs = m.check(FileSystem::mount(m.fs_device, m.options.fs_config));
    if (!fs) return tl::unexpected(fs.error());
    if (auto s = m.check(write_tree(**fs, *archive)); !s) return s;
  }
  auto report = FileSystem::fsck(m.fs_device, m.options.fs_config, m.options.checks);
  RecordImage done = m.current;
  done.restore_in_progress = 0;
  done.restore_probe = 0;
  if (!report.ok()) {
    // Not retried at boot (it would fail the same way): the caller falls
    // back to the factory content.
    if (auto s = m.write(done); !s) return s;
    Error e{Errc::check_failed, "restored file system fails its checks", *report.first()};
    return tl::unexpected(e);
  }
  done.restore_pending = 0;
  done.restore_count += 1;
  if (probe >= 1) done.probe_counts[probe - 1] += 1;
  if (probe == kBootLoopProbe) done.boot_attempts = 0;
  return m.write(done);
}

BackupInfo BackupEngine::info() const {
  const auto& m = *impl_;
  const auto& r = m.current;
  BackupInfo out;
  out.valid = r.valid != 0;
  out.backup_count = r.backup_count;
  out.restore_count = r.restore_count;
  std::copy(std::begin(r.probe_counts), std::end(r.probe_counts), out.probe_counts.begin());
  out.page_count = r.page_count;
  out.data_bad_blocks = m.data_bad;
  out.info_bad_blocks = m.log.bad_blocks();
  out.restore_pending = r.restore_pending != 0;
  out.restore_in_progress = r.restore_in_progress != 0;
  out.restore_probe = r.restore_probe;
  out.boot_attempts = r.boot_attempts;
  out.generation = r.generation;
  out.image_bytes = r.valid ? r.image_bytes : 0;
  out.image_blocks = r.valid ? r.image_blocks : 0;
  out.files = r.valid ? r.files : 0;
  return out;
}

BootDecision BackupEngine::at_boot(const std::optional<Error>& mount_error) const {
  const auto& r = impl_->current;
  auto decide = [&](int probe, std::string reason, bool resumed = false) {
    if (!r.valid)
      return BootDecision{BootAction::no_backup, probe, resumed, reason + "; no valid backup"};
    return BootDecision{BootAction::restore, probe, resumed, std::move(reason)};
  };
  if (r.restore_in_progress) return decide(r.restore_probe, "interrupted restore restarted", true);
  if (r.restore_pending && r.valid) return decide(kForcedRestore, "forced restore");
  if (mount_error) {
    if (mount_error->code == Errc::power_loss)
      return {BootAction::none, 0, false, "power lost while mounting"};
    if (mount_error->code == Errc::check_failed && mount_error->check)
      return decide(mount_error->check->number(), mount_error->check->describe());
    return decide(1, "mount failed: " + mount_error->message());
  }
  // boot_attempts counts this boot too: restore when the N before it failed.
  if (r.boot_attempts > impl_->options.boot_loop_threshold)
    return decide(kBootLoopProbe,
                  std::to_string(r.boot_attempts - 1) + " consecutive boots did not complete");
  return {};
}

Status BackupEngine::note_boot_started() {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  RecordImage r = m.current;
  r.boot_attempts += 1;
  return m.write(r);
}

Status BackupEngine::note_boot_completed() {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  if (m.current.boot_attempts == 0) return {};
  RecordImage r = m.current;
  r.boot_attempts = 0;
  return m.write(r);
}

Status BackupEngine::refresh_bad_blocks() {
  auto& m = *impl_;
  if (auto s = m.alive(); !s) return s;
  auto scan = m.check(scan_data(m.data, 0));
  if (!scan) return tl::unexpected(scan.error());
  m.data_bad = scan->bad;
  if (m.current.data_bad == m.data_bad && m.current.info_bad == m.log.bad_blocks()) return {};
  return m.write(m.current);
}

std::uint64_t BackupEngine::records_written() const {
  return impl_->log.writes();
}

}  // namespace vmodem::fs
