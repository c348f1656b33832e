#include "module/fs_config.hpp"

#include <map>
#include <mutex>
#include <utility>

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

tl::expected<std::vector<fs::FactoryFile>, std::string> factory_files(const FileSystemSpec& fs,
                                                                      std::uint64_t seed) {
  if (fs.factory_dir.empty()) {
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

fs::CheckOptions boot_checks_of(const FileSystemSpec& spec, std::uint64_t seed) {
  fs::CheckOptions checks;
  const std::string_view prefix = critical_prefix(spec.role);
  if (prefix.empty()) return checks;
  auto files = factory_files(spec, seed);
  if (!files) return checks;
  std::vector<fs::FactoryFile> critical;
  for (auto& file : *files) {
    if (file.path.starts_with(prefix)) critical.push_back(std::move(file));
  }
  checks.critical = fs::critical_list(critical);
  return checks;
}

}  // namespace

fs::CheckOptions boot_checks(const FileSystemSpec& spec, std::uint64_t seed) {
  // A host directory may change between boots: read it every time.
  if (!spec.factory_dir.empty()) return boot_checks_of(spec, seed);
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
  return cache.emplace(key, boot_checks_of(spec, seed)).first->second;
}

}  // namespace vmodem::sim
