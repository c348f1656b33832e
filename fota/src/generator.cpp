#include <chrono>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/fota/memory_io.hpp>

#include "image_patch.hpp"

namespace vmodem::fota {
namespace {

Status check_bundles(const FirmwareBundle& old_fw, const FirmwareBundle& new_fw) {
  const auto invalid = [](const std::string& why) { return fail(ErrorCode::kInvalidInput, why); };
  if (old_fw.model != new_fw.model) {
    return invalid("model differs: '" + old_fw.model + "' vs '" + new_fw.model + "'");
  }
  for (const auto* fw : {&old_fw, &new_fw}) {
    if (fw->images.empty()) return invalid("a firmware needs at least one image");
    for (const auto& image : fw->images) {
      if (!valid_image_name(image.name)) return invalid("bad image name '" + image.name + "'");
      if (image.data.size() > kMaxImageBytes)
        return invalid("image '" + image.name + "' too large");
    }
  }
  return {};
}

// The images of the package, in new-firmware order, then removed ones.
std::vector<PackageImage> plan_images(const FirmwareBundle& old_fw, const FirmwareBundle& new_fw) {
  std::vector<PackageImage> images;
  for (const auto& target : new_fw.images) {
    PackageImage image;
    image.name = target.name;
    image.has_target = true;
    image.target_size = target.data.size();
    image.target_digest = sha256(target.data);
    if (const auto* source = old_fw.find(target.name)) {
      image.has_source = true;
      image.source_size = source->data.size();
      image.source_digest = sha256(source->data);
    }
    images.push_back(std::move(image));
  }
  for (const auto& source : old_fw.images) {
    if (new_fw.find(source.name) != nullptr) continue;
    PackageImage image;
    image.name = source.name;
    image.has_source = true;
    image.source_size = source.data.size();
    image.source_digest = sha256(source.data);
    images.push_back(std::move(image));
  }
  return images;
}

Status verify_package(ByteView package, const FirmwareBundle& old_fw,
                      const FirmwareBundle& new_fw) {
  BundleSource source(old_fw);
  BundleSink sink;
  ApplyOptions options;
  options.chunk_size = 64 * 1024;
  auto applier = Applier::open(package, source, options);
  if (!applier) return tl::unexpected(applier.error());
  if (auto st = (*applier)->run(sink); !st) return st;
  for (const auto& image : new_fw.images) {
    const auto* produced = sink.bundle().find(image.name);
    if (produced == nullptr || produced->data != image.data) {
      return fail(ErrorCode::kUnpackFailed, "verification: image '" + image.name + "' differs");
    }
  }
  return {};
}

}  // namespace

Result<GeneratedPackage> make_package(const FirmwareBundle& old_fw, const FirmwareBundle& new_fw,
                                      const GeneratorOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (auto st = check_bundles(old_fw, new_fw); !st) return tl::unexpected(st.error());

  PackageHeader header;
  header.format_version = options.format_version;
  header.model = old_fw.model;
  header.source_version = old_fw.version;
  header.target_version = new_fw.version;
  header.source_firmware_digest = firmware_digest(old_fw);
  header.target_firmware_digest = firmware_digest(new_fw);
  header.images = plan_images(old_fw, new_fw);

  detail::PatchEncodeOptions encode;
  encode.architecture = options.architecture;
  encode.load_address = options.load_address;
  encode.exhaustive_codecs = options.thorough;
  encode.short_stored_frames = options.format_version >= kFormatVersion2;
  if (!options.thorough) encode.min_gains = {8};

  GeneratedPackage out;
  std::vector<std::uint8_t> payload;
  std::uint64_t total = 0, encoded = 0;
  for (const auto& image : header.images)
    total += image.has_target ? image.target_size : 0;
  for (auto& image : header.images) {
    ImageStats stats{image.name, image.source_size, image.target_size};
    if (image.has_target) {
      const FirmwareImage* source = old_fw.find(image.name);
      const ByteView old_bytes = source ? ByteView(source->data) : ByteView{};
      auto patch = detail::encode_image_patch(old_bytes, new_fw.find(image.name)->data, encode);
      if (!patch) return tl::unexpected(patch.error());
      const auto& b = patch->breakdown;
      image.algorithm = b.algorithm;
      image.patch_offset = payload.size();
      image.patch_length = patch->bytes.size();
      payload.insert(payload.end(), patch->bytes.begin(), patch->bytes.end());
      stats.patch_size = patch->bytes.size();
      stats.algorithm = b.algorithm;
      stats.min_gain = b.min_gain;
      stats.control_raw = b.control_raw;
      stats.diff_raw = b.diff_raw;
      stats.extra_raw = b.extra_raw;
      stats.control_packed = b.control_packed;
      stats.diff_packed = b.diff_packed;
      stats.extra_packed = b.extra_packed;
      encoded += image.target_size;
      if (options.on_progress && total > 0)
        options.on_progress(static_cast<int>(encoded * 1000 / total));
    }
    out.stats.images.push_back(stats);
  }
  auto package = serialize_package(header, payload);
  if (!package) return tl::unexpected(package.error());
  out.bytes = std::move(*package);
  if (options.verify) {
    if (auto st = verify_package(out.bytes, old_fw, new_fw); !st) {
      return fail(ErrorCode::kUnpackFailed,
                  "generated package failed verification: " + st.error().message);
    }
  }
  out.stats.package_size = out.bytes.size();
  out.stats.header_size = out.bytes.size() - payload.size();
  out.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace vmodem::fota
