#include <vmodem/fota/app_package.hpp>
#include <vmodem/fota/delta.hpp>
#include <vmodem/fota/memory_io.hpp>

namespace vmodem::fota {
namespace {

constexpr std::uint64_t kMaxPackageBytes = kMaxImageBytes * 2;

bool is_manifest(const std::filesystem::path& path) {
  return path.extension() == ".json";
}

Result<FirmwareBundle> load_source_for(const std::filesystem::path& old_path,
                                       const PackageHeader& header) {
  BundleDefaults defaults;
  defaults.model = header.model;
  defaults.version = header.source_version;
  // A plain file stands for the package's single source image, whatever it is called.
  if (!is_manifest(old_path) && header.images.size() == 1 && header.images[0].has_source) {
    defaults.image_name = header.images[0].name;
  }
  return load_bundle(old_path, defaults);
}

Result<std::vector<std::filesystem::path>> write_output(const FirmwareBundle& bundle,
                                                        bool single_file,
                                                        const std::filesystem::path& out) {
  std::vector<std::filesystem::path> written;
  if (single_file) {
    if (auto st = write_file_atomic(out, bundle.images.front().data); !st)
      return tl::unexpected(st.error());
    written.push_back(out);
    return written;
  }
  return write_bundle_directory(bundle, out, ExistingFiles::replace);
}

}  // namespace

Result<GeneratorStats> make(const std::filesystem::path& old_path,
                            const std::filesystem::path& new_path, const std::filesystem::path& out,
                            const MakeOptions& options) {
  BundleDefaults old_defaults{options.model, options.old_version, options.image_name};
  BundleDefaults new_defaults{options.model, options.new_version, options.image_name};
  auto old_fw = load_bundle(old_path, old_defaults);
  if (!old_fw) return tl::unexpected(old_fw.error());
  auto new_fw = load_bundle(new_path, new_defaults);
  if (!new_fw) return tl::unexpected(new_fw.error());
  // Named versions win over a manifest's: an exported firmware changed in
  // place becomes the next version without editing its manifest.
  if (!options.old_version.empty()) old_fw->version = options.old_version;
  if (!options.new_version.empty()) new_fw->version = options.new_version;
  auto package = make_package(*old_fw, *new_fw, options.generator);
  if (!package) return tl::unexpected(package.error());
  if (auto st = write_file_atomic(out, package->bytes); !st) return tl::unexpected(st.error());
  return package->stats;
}

nlohmann::json to_json(const PackageHeader& h) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& image : h.images) {
    nlohmann::json j{{"name", image.name},
                     {"algorithm", algorithm_name(image.algorithm)},
                     {"patch_bytes", image.patch_length}};
    if (image.has_source)
      j["source"] = {{"size", image.source_size}, {"sha256", to_hex(image.source_digest)}};
    if (image.has_target)
      j["target"] = {{"size", image.target_size}, {"sha256", to_hex(image.target_digest)}};
    images.push_back(std::move(j));
  }
  return {{"format_version", h.format_version},
          {"model", h.model},
          {"source_version", h.source_version},
          {"target_version", h.target_version},
          {"source_sha256", to_hex(h.source_firmware_digest)},
          {"target_sha256", to_hex(h.target_firmware_digest)},
          {"package_id", to_hex(h.package_id)},
          {"header_bytes", h.header_length},
          {"payload_bytes", h.payload_length},
          {"images", std::move(images)}};
}

nlohmann::json to_json(const GeneratorStats& stats) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& i : stats.images) {
    images.push_back({{"name", i.name},
                      {"source_size", i.source_size},
                      {"target_size", i.target_size},
                      {"patch_bytes", i.patch_size},
                      {"algorithm", algorithm_name(i.algorithm)},
                      {"min_gain", i.min_gain},
                      {"streams",
                       {{"control", {{"raw", i.control_raw}, {"packed", i.control_packed}}},
                        {"diff", {{"raw", i.diff_raw}, {"packed", i.diff_packed}}},
                        {"extra", {{"raw", i.extra_raw}, {"packed", i.extra_packed}}}}}});
  }
  return {{"package_bytes", stats.package_size},
          {"header_bytes", stats.header_size},
          {"seconds", stats.seconds},
          {"images", std::move(images)}};
}

Result<nlohmann::json> info(const std::filesystem::path& package_path) {
  auto package = read_file(package_path, kMaxPackageBytes);
  if (!package) return tl::unexpected(package.error());
  if (is_app_package(*package)) {
    auto app = parse_app_package(*package);
    if (!app) return tl::unexpected(app.error());
    return to_json(*app);
  }
  auto header = parse_package(*package);
  if (!header) return tl::unexpected(header.error());
  return to_json(*header);
}

Result<ApplyResult> apply(const std::filesystem::path& old_path,
                          const std::filesystem::path& package_path,
                          const std::filesystem::path& out, const ApplyFileOptions& options) {
  auto package = read_file(package_path, kMaxPackageBytes);
  if (!package) return tl::unexpected(package.error());
  auto header = parse_package(*package);
  if (!header) return tl::unexpected(header.error());
  auto old_fw = load_source_for(old_path, *header);
  if (!old_fw) return tl::unexpected(old_fw.error());

  // What the boot-time update checks against the running firmware (a plain
  // file took the package's model and version: only its digest counts).
  ApplyOptions checks = options.apply;
  if (checks.expected_model.empty()) checks.expected_model = old_fw->model;
  if (checks.current_version.empty()) checks.current_version = old_fw->version;
  checks.current_firmware = firmware_digest(*old_fw);
  BundleSource source(*old_fw);
  auto applier = Applier::open(*package, source, checks);
  if (!applier) return tl::unexpected(applier.error());
  BundleSink sink;
  if (auto st = (*applier)->run(sink); !st) return tl::unexpected(st.error());

  FirmwareBundle& result = sink.bundle();
  result.model = header->model;
  result.version = header->target_version;
  const bool single_file =
      !is_manifest(old_path) && result.images.size() == 1 && header->images.size() == 1;
  auto written = write_output(result, single_file, out);
  if (!written) return tl::unexpected(written.error());
  return ApplyResult{header->model, header->source_version, header->target_version,
                     sink.bytes_written(), std::move(*written)};
}

}  // namespace vmodem::fota
