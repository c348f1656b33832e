// What both package formats share, and the choice between them.
#include <algorithm>

#include <vmodem/fota/package.hpp>

#include "package_format.hpp"

namespace vmodem::fota {
namespace detail {

Status check_image(const PackageImage& image, std::uint64_t payload_length) {
  const auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kBadPackage, "image '" + image.name + "': " + why);
  };
  if (!valid_image_name(image.name)) return bad("invalid name");
  if (image.source_size > kMaxImageBytes || image.target_size > kMaxImageBytes) {
    return bad("size beyond limits");
  }
  if (!image.has_source && image.source_size != 0) return bad("absent source with a size");
  if (!image.has_target && (image.target_size != 0 || image.algorithm != PatchAlgorithm::kNone)) {
    return bad("absent target with content");
  }
  if (image.has_target && image.algorithm == PatchAlgorithm::kNone)
    return bad("target without patch");
  if (image.patch_offset > payload_length ||
      image.patch_length > payload_length - image.patch_offset) {
    return bad("patch outside the payload");
  }
  return {};
}

Status check_unique_name(const std::vector<PackageImage>& images, const std::string& name) {
  for (const auto& other : images) {
    if (other.name == name) return fail(ErrorCode::kBadPackage, "duplicate image name " + name);
  }
  return {};
}

Status check_serializable(const PackageHeader& header, ByteView payload) {
  const auto invalid = [](const std::string& why) { return fail(ErrorCode::kInvalidInput, why); };
  for (const auto* s : {&header.model, &header.source_version, &header.target_version}) {
    if (s->size() > kMaxStringBytes) return invalid("string longer than 64 bytes: " + *s);
  }
  if (header.images.empty() || header.images.size() > kMaxImages) return invalid("1..64 images");
  for (std::size_t i = 0; i < header.images.size(); ++i) {
    const auto& image = header.images[i];
    if (auto st = check_image(image, payload.size()); !st) return invalid(st.error().message);
    const std::vector<PackageImage> before(header.images.begin(),
                                           header.images.begin() + static_cast<std::ptrdiff_t>(i));
    if (auto st = check_unique_name(before, image.name); !st) return invalid(st.error().message);
  }
  return {};
}

Digest read_digest(Reader& r) {
  Digest d{};
  const auto bytes = r.bytes(d.size());
  if (r.ok()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

void reseal_package(Bytes& package) {
  if (package.size() < kMagicAndVersion) return;
  if (package[8] == kFormatVersion2) {
    reseal_package_v2(package);
  } else {
    reseal_package_v1(package);
  }
}

}  // namespace detail

std::string_view algorithm_name(PatchAlgorithm algorithm) {
  switch (algorithm) {
    case PatchAlgorithm::kNone:
      return "none";
    case PatchAlgorithm::kBsdiff:
      return "bsdiff-lzma";
    case PatchAlgorithm::kBsdiffXtensa:
      return "bsdiff-lzma-xtensa";
    case PatchAlgorithm::kBsdiffThumb2:
      return "bsdiff-lzma-thumb2";
    case PatchAlgorithm::kBsdiffAarch64:
      return "bsdiff-lzma-aarch64";
  }
  return "unknown";
}

bool valid_image_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxStringBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Result<PackageHeader> parse_package(ByteView package) {
  if (package.size() < detail::kMagicAndVersion ||
      !std::equal(kPackageMagic.begin(), kPackageMagic.end(), package.begin())) {
    return fail(ErrorCode::kBadPackage, "not a vmodem delta package (bad magic)");
  }
  // Format 2 keeps format 1's version field readable: a format-1 reader
  // sees u16 version 2 + 256 x flags and refuses it as unsupported.
  if (package[8] == kFormatVersion2) return detail::parse_package_v2(package);
  return detail::parse_package_v1(package);
}

ByteView patch_bytes(ByteView package, const PackageHeader& header, const PackageImage& image) {
  return package.subspan(header.header_length + image.patch_offset, image.patch_length);
}

Result<std::vector<std::uint8_t>> serialize_package(PackageHeader header, ByteView payload) {
  if (auto st = detail::check_serializable(header, payload); !st) return tl::unexpected(st.error());
  switch (header.format_version) {
    case kFormatVersion1:
      return detail::serialize_package_v1(std::move(header), payload);
    case kFormatVersion2:
      return detail::serialize_package_v2(std::move(header), payload);
    default:
      return fail(ErrorCode::kInvalidInput,
                  "no package format " + std::to_string(header.format_version));
  }
}

}  // namespace vmodem::fota
