// FileSystem: the public API over Volume (format, mount, fsck, handles).
#include <algorithm>

#include "volume.hpp"

namespace vmodem::fs {

FileSystem::FileSystem(std::unique_ptr<Volume> volume) : volume_(std::move(volume)) {}
FileSystem::~FileSystem() = default;

std::optional<nand::GeometryProblem> FileSystem::geometry_problem(const nand::Geometry& g,
                                                                  const Config& config) {
  using Field = nand::GeometryProblem::Field;
  if (g.page_size < 512 || g.page_size > nand::kMaxPageSize) {
    return nand::GeometryProblem{
        Field::page_size,
        "the file system needs pages of 512 to " + std::to_string(nand::kMaxPageSize) + " bytes"};
  }
  constexpr std::uint32_t kTagsEnd = layout::kTagsOffset + layout::kTagsSize;
  if (g.spare_size < kTagsEnd || g.spare_size > nand::kMaxSpareSize) {
    return nand::GeometryProblem{Field::spare_size,
                                 "the file system needs " + std::to_string(kTagsEnd) + " to " +
                                     std::to_string(nand::kMaxSpareSize) +
                                     " spare bytes per page (its page tags are bytes " +
                                     std::to_string(layout::kTagsOffset) + "-" +
                                     std::to_string(kTagsEnd - 1) + ")"};
  }
  const std::uint32_t min_blocks = config.reserve_blocks + 3;
  if (g.block_count < min_blocks) {
    return nand::GeometryProblem{
        Field::blocks, "a file system needs at least " + std::to_string(min_blocks) +
                           " blocks (reserve_blocks " + std::to_string(config.reserve_blocks) +
                           " + 3)"};
  }
  return std::nullopt;
}

Status FileSystem::format(nand::Device& device, const Config& config,
                          const FormatOptions& options) {
  Volume v(device, config);
  const auto& g = v.geo;
  if (auto problem = geometry_problem(g, v.cfg)) return fail(Errc::unsupported, problem->message);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    auto bad = device.is_bad(b);
    if (!bad) return tl::unexpected(v.device_error(bad.error()));
    if (*bad) {
      v.set_use(b, BlockUse::bad);
      continue;
    }
    auto erased = device.erase(b);
    if (!erased && erased.error().code == nand::Errc::erase_fail) {
      (void)device.mark_bad(b);
      v.set_use(b, BlockUse::bad);
      continue;
    }
    if (!erased) return tl::unexpected(v.device_error(erased.error()));
    v.set_use(b, BlockUse::free_clean);
  }
  if (v.good_blocks() < v.cfg.reserve_blocks + 3) {
    return fail(Errc::unsupported, "too few good blocks to format");
  }
  layout::Superblock sb;
  sb.page_size = g.page_size;
  sb.pages_per_block = g.pages_per_block;
  sb.blocks_at_format = g.block_count;
  sb.max_name = v.cfg.max_name;
  sb.volume_id = options.volume_id;
  layout::Tags t;
  t.kind = layout::Kind::super;
  t.object = layout::kSuperId;
  t.bytes = static_cast<std::uint16_t>(layout::encode_super(sb, v.scratch));
  t.data_crc = layout::page_checksum({v.scratch.data(), t.bytes});
  auto idx = v.append(t, v.scratch);
  if (!idx) return tl::unexpected(idx.error());
  return {};
}

Result<std::unique_ptr<FileSystem>> FileSystem::mount(nand::Device& device, const Config& config,
                                                      const MountOptions& options) {
  auto v = std::make_unique<Volume>(device, config);
  v->read_only = options.read_only;
  CheckReport report;
  if (auto ok = v->scan(report); !ok) return tl::unexpected(ok.error());
  if (report.ok()) v->check_space(report);
  if (report.ok() && !options.checks.critical.empty()) {
    v->check_critical(options.checks.critical, report);
  }
  if (report.ok() && options.checks.deep) v->check_data(report);
  if (v->dead) return fail(Errc::power_loss, "power lost during mount");
  if (!report.ok()) {
    sort_failures(report);
    Error error{Errc::check_failed, {}, report.failures.front()};
    return tl::unexpected(error);
  }
  if (!v->read_only) {
    if (auto ok = v->recover(); !ok && ok.error().code != Errc::no_space) {
      return tl::unexpected(ok.error());
    }
  }
  return std::unique_ptr<FileSystem>(new FileSystem(std::move(v)));
}

CheckReport FileSystem::fsck(nand::Device& device, const Config& config,
                             const CheckOptions& options) {
  Volume v(device, config);
  v.read_only = true;
  CheckReport report;
  auto scanned = v.scan(report);
  const bool fatal = std::any_of(report.failures.begin(), report.failures.end(), [](auto& f) {
    return f.probe == Probe::superblock_unreadable || f.probe == Probe::bad_format;
  });
  if (!scanned || v.dead) {
    add_failure(report, Probe::superblock_unreadable, "power lost during the check");
  } else if (!fatal) {
    v.check_space(report);
    v.check_critical(options.critical, report);
    if (options.deep) v.check_data(report);
  }
  sort_failures(report);
  return report;
}

CheckReport FileSystem::check(const CheckOptions& options) {
  CheckReport report;
  volume_->check_tree(report);
  volume_->check_space(report);
  volume_->check_critical(options.critical, report);
  if (options.deep) volume_->check_data(report);
  report.objects = static_cast<std::uint32_t>(volume_->objects.size());
  sort_failures(report);
  return report;
}

Result<StatFs> FileSystem::statfs() {
  Volume& v = *volume_;
  StatFs s;
  s.page_size = v.geo.page_size;
  s.blocks = v.good_blocks();
  s.bad_blocks = v.bad_blocks();
  s.free_blocks = v.free_blocks();
  s.pages_in_use = v.live_pages;
  const std::uint64_t usable = v.usable_pages();
  const std::uint64_t avail = usable > v.live_pages + v.cfg.meta_reserve_pages
                                  ? usable - v.live_pages - v.cfg.meta_reserve_pages
                                  : 0;
  s.total_bytes = usable * v.geo.page_size;
  s.free_bytes = avail * v.geo.page_size;
  return s;
}

Status FileSystem::sync() {
  for (auto& [id, o] : volume_->objects) {
    if (auto ok = volume_->commit(o); !ok) return ok;
  }
  return {};
}

Result<std::uint32_t> FileSystem::collect_garbage(std::uint32_t blocks) {
  Volume& v = *volume_;
  if (v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  if (v.read_only) return fail(Errc::read_only, "mounted read-only");
  while (v.free_blocks() < blocks) {
    auto progress = v.gc_once();
    if (!progress) return tl::unexpected(progress.error());
    if (!*progress) break;
  }
  return v.free_blocks();
}

FsCounters FileSystem::counters() const {
  return volume_->counters;
}
const Config& FileSystem::config() const {
  return volume_->cfg;
}
bool FileSystem::alive() const {
  return !volume_->dead;
}
bool FileSystem::read_only() const {
  return volume_->read_only;
}

}  // namespace vmodem::fs
