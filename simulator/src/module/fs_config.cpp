#include "module/fs_config.hpp"

#include <map>
#include <mutex>
#include <utility>

#include "quecpython/app_tree.hpp"

namespace vmodem::sim {

fs::Config fs_config(const Profile& profile) {
  fs::Config config;
  config.max_name = profile.fs.max_name;
  config.max_file_size = profile.fs.max_file_size;
  config.max_open_files = profile.fs.max_open_files;
  config.max_depth = profile.fs.max_depth;
  config.reserve_blocks = profile.fs.reserve_blocks;
  config.max_bad_block_percent = profile.fs.max_bad_block_percent;
  // Scrub a page before its worst sector runs out of ECC headroom.
  config.scrub_threshold_bits =
      profile.chip.ecc.strength_bits > 1 ? profile.chip.ecc.strength_bits - 1 : 1;
  return config;
}

quecpython::AppTreeLimits app_tree_limits(const Profile& profile, const FileSystemSpec& fs) {
  quecpython::AppTreeLimits limits;
  limits.max_name = profile.fs.max_name;
  // max_depth counts path components, the file's own name included; /bak
  // keeps the files one level down, under /usr.
  const std::uint32_t used = fs.app_backup ? 2 : 1;
  limits.max_depth = profile.fs.max_depth > used ? profile.fs.max_depth - used : 0;
  limits.max_file_size = profile.fs.max_file_size;
  if (const PartitionEntry* entry = profile.find(fs.partition)) {
    const std::uint64_t block_bytes =
        std::uint64_t{profile.geometry.page_size} * profile.geometry.pages_per_block;
    const std::uint32_t kept = profile.fs.reserve_blocks + 3;  // reserve, superblock, GC
    limits.max_total_bytes = entry->spec.block_count > kept
                                 ? (entry->spec.block_count - kept) * block_bytes
                                 : block_bytes;
  }
  return limits;
}

tl::expected<std::vector<fs::FactoryFile>, std::string> factory_files(const Profile& profile,
                                                                      const FileSystemSpec& fs,
                                                                      std::uint64_t seed) {
  if (profile.family == Family::quecpython && !fs.factory_dir.empty()) {
    // The application: read strictly (symlinks, devices, bad names refused),
    // and in /bak with the generated checksum.json and backup_restore.json.
    auto app = quecpython::load_app_tree(fs.factory_dir, app_tree_limits(profile, fs));
    if (!app) return tl::unexpected(app.error());
    if (!fs.app_backup) return std::move(*app);
    return quecpython::backup_content(*app, fs.restore_enabled);
  }
  if (fs.factory_dir.empty()) {
    if (!fs.generated_factory) return std::vector<fs::FactoryFile>{};
    switch (fs.role) {
      case FsRole::modem:
        return fs::generate_modem_factory(seed);
      case FsRole::ap:
        return fs::generate_ap_factory(seed);
      case FsRole::data:
        return std::vector<fs::FactoryFile>{};
    }
  }
  auto files = fs::load_host_tree(fs.factory_dir);
  if (!files) {
    return tl::unexpected("cannot read factory files from " + fs.factory_dir + ": " +
                          files.error().message());
  }
  return std::move(*files);
}

namespace {

// The directories of boot-critical files, by role: the RF calibration and
// the USB configuration. A data file system has none.
std::string_view critical_prefix(FsRole role) {
  switch (role) {
    case FsRole::modem:
      return "/nv/rfcal/";
    case FsRole::ap:
      return "/usb/";
    case FsRole::data:
      break;
  }
  return {};
}

fs::CheckOptions boot_checks_of(const Profile& profile, const FileSystemSpec& spec,
                                std::uint64_t seed) {
  fs::CheckOptions checks;
  const std::string_view prefix = critical_prefix(spec.role);
  if (prefix.empty()) return checks;
  // QuecPython's files are checked by its own guardian (checksum.json), and
  // its /usr is the application's, with no USB configuration in it.
  if (profile.family == Family::quecpython) return checks;
  auto files = factory_files(profile, spec, seed);
  if (!files) return checks;
  std::vector<fs::FactoryFile> critical;
  for (auto& file : *files) {
    if (file.path.starts_with(prefix)) critical.push_back(std::move(file));
  }
  checks.critical = fs::critical_list(critical);
  return checks;
}

}  // namespace

fs::CheckOptions boot_checks(const Profile& profile, const FileSystemSpec& spec,
                             std::uint64_t seed) {
  // A host directory may change between boots: read it every time.
  if (!spec.factory_dir.empty() || !spec.generated_factory)
    return boot_checks_of(profile, spec, seed);
  // Generated content is a function of (role, seed) alone, and generating it
  // (the modem FS's 84 KB of RF calibration, CRC'd) costs more than the boot
  // mount that uses it: the module computes the list at every boot, so it is
  // computed once per process. Bounded: one entry per module flash seen.
  static std::mutex mutex;
  static std::map<std::pair<FsRole, std::uint64_t>, fs::CheckOptions> cache;
  const std::lock_guard lock(mutex);
  const auto key = std::make_pair(spec.role, seed);
  if (auto hit = cache.find(key); hit != cache.end()) return hit->second;
  if (cache.size() >= 64) cache.clear();
  return cache.emplace(key, boot_checks_of(profile, spec, seed)).first->second;
}

}  // namespace vmodem::sim
