// Package format 2: the compact container (fota/FORMAT.md). A one-image
// package spends 93 bytes plus its strings on everything but the patch: the
// magic, the image's two SHA-256 digests, LEB128 sizes, u8-length strings
// and an 8-byte check over the whole package.
#include <algorithm>

#include <vmodem/fota/bundle.hpp>

#include "package_format.hpp"

namespace vmodem::fota::detail {
namespace {

constexpr std::uint8_t kKindReserved = 0x0C;  // kind bits 2 and 3
constexpr int kAlgorithmShift = 4;            // kind bits 4..7

tl::unexpected<Error> bad(const std::string& why) {
  return fail(ErrorCode::kBadPackage, why);
}

void put_short_string(Bytes& out, std::string_view s) {
  put_u8(out, static_cast<std::uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

bool read_short_string(Reader& r, std::string& out) {
  const std::uint8_t length = r.u8();
  if (!r.ok() || length > kMaxStringBytes) return false;
  out = r.string(length);
  return r.ok();
}

// Model, source version, then the target version as the number of leading
// bytes it shares with the source version and the rest ("v1.22.1" ->
// "v1.22.2" costs 3 bytes).
void put_strings(Bytes& out, const PackageHeader& h) {
  put_short_string(out, h.model);
  put_short_string(out, h.source_version);
  const auto mismatch = std::mismatch(h.source_version.begin(), h.source_version.end(),
                                      h.target_version.begin(), h.target_version.end());
  const auto shared = static_cast<std::size_t>(mismatch.first - h.source_version.begin());
  put_u8(out, static_cast<std::uint8_t>(shared));
  put_short_string(out, std::string_view(h.target_version).substr(shared));
}

bool read_strings(Reader& r, PackageHeader& h) {
  if (!read_short_string(r, h.model) || !read_short_string(r, h.source_version)) return false;
  const std::uint8_t shared = r.u8();
  std::string rest;
  if (!r.ok() || shared > h.source_version.size() || !read_short_string(r, rest)) return false;
  if (shared + rest.size() > kMaxStringBytes) return false;
  h.target_version = h.source_version.substr(0, shared) + rest;
  return true;
}

// One image entry; `last`: its patch length is not stored (it is the rest
// of the payload). Sizes and offsets are checked by the caller.
Result<PackageImage> read_entry(Reader& r, bool last) {
  const auto truncated = [] { return bad("truncated image entry"); };
  PackageImage image;
  const std::uint8_t kind = r.u8();
  const auto algorithm = static_cast<std::uint8_t>(kind >> kAlgorithmShift);
  if (!r.ok()) return truncated();
  if ((kind & kKindReserved) != 0) return fail(ErrorCode::kUnsupported, "unknown image flags");
  if (algorithm > static_cast<std::uint8_t>(kLastPatchAlgorithm)) {
    return fail(ErrorCode::kUnsupported, "unknown patch algorithm " + std::to_string(algorithm));
  }
  image.has_source = (kind & kHasSource) != 0;
  image.has_target = (kind & kHasTarget) != 0;
  image.algorithm = static_cast<PatchAlgorithm>(algorithm);
  if (!read_short_string(r, image.name)) return truncated();
  if (image.name.empty()) image.name = kDefaultImageName;
  if (image.has_source) {
    image.source_size = r.varint().value_or(0);
    image.source_digest = read_digest(r);
  }
  if (image.has_target) {
    image.target_size = r.varint().value_or(0);
    image.target_digest = read_digest(r);
    if (!last) image.patch_length = r.varint().value_or(0);
  }
  if (!r.ok()) return truncated();
  return image;
}

// Patches lie back to back in image order; the last image's (when it has a
// target) is whatever of the payload the others leave. Every payload byte
// belongs to a patch.
Status place_patches(std::vector<PackageImage>& images, std::uint64_t payload_length) {
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto& image = images[i];
    image.patch_offset = offset;
    if (i + 1 == images.size() && image.has_target) image.patch_length = payload_length - offset;
    if (image.patch_length > payload_length - offset) return bad("patches beyond the payload");
    offset += image.patch_length;
  }
  if (offset != payload_length) return bad("payload bytes no image uses");
  return {};
}

// Format 2 stores no firmware digest: they are the image list's.
void derive_firmware_digests(PackageHeader& h) {
  std::vector<ImageIdentity> source, target;
  for (const auto& image : h.images) {
    if (image.has_source) source.push_back({image.name, image.source_size, image.source_digest});
    if (image.has_target) target.push_back({image.name, image.target_size, image.target_digest});
  }
  h.source_firmware_digest = firmware_digest(std::move(source));
  h.target_firmware_digest = firmware_digest(std::move(target));
}

Status read_images(Reader& r, PackageHeader& h) {
  const std::uint8_t count = r.u8();
  if (!r.ok() || count == 0 || count > kMaxImages) return bad("image count out of range");
  for (std::uint8_t i = 0; i < count; ++i) {
    auto image = read_entry(r, i + 1 == count);
    if (!image) return tl::unexpected(image.error());
    if (auto st = check_unique_name(h.images, image->name); !st) return st;
    h.images.push_back(std::move(*image));
  }
  return {};
}

void put_entry(Bytes& out, const PackageImage& image, bool last) {
  put_u8(out, static_cast<std::uint8_t>(
                  (image.has_source ? kHasSource : 0) | (image.has_target ? kHasTarget : 0) |
                  (static_cast<unsigned>(image.algorithm) << kAlgorithmShift)));
  put_short_string(out, image.name == kDefaultImageName ? std::string_view{} : image.name);
  if (image.has_source) {
    put_varint(out, image.source_size);
    put_bytes(out, image.source_digest);
  }
  if (image.has_target) {
    put_varint(out, image.target_size);
    put_bytes(out, image.target_digest);
    if (!last) put_varint(out, image.patch_length);
  }
}

// The patch layout format 2 can express (see place_patches); an image
// without a target has no patch, wherever its offset points.
Status check_back_to_back(const std::vector<PackageImage>& images, std::uint64_t payload_length) {
  std::uint64_t offset = 0;
  for (const auto& image : images) {
    if (!image.has_target && image.patch_length == 0) continue;
    if (!image.has_target || image.patch_offset != offset) {
      return fail(ErrorCode::kInvalidInput,
                  "format 2 needs the patches back to back in image order");
    }
    offset += image.patch_length;
  }
  if (offset != payload_length) {
    return fail(ErrorCode::kInvalidInput, "format 2 needs the patches to fill the payload");
  }
  return {};
}

}  // namespace

Result<PackageHeader> parse_package_v2(ByteView package) {
  if (package.size() < kMagicAndVersion + kPackageCheckBytes) return bad("package too short");
  if (package[9] != 0) return fail(ErrorCode::kUnsupported, "unknown package flags");
  // The check first: no other field is trusted before it.
  const auto checked = package.first(package.size() - kPackageCheckBytes);
  PackageHeader h;
  h.format_version = kFormatVersion2;
  h.package_id = sha256(checked);
  if (!std::equal(checked.end(), package.end(), h.package_id.begin())) {
    return bad("package checksum mismatch");
  }
  Reader r(checked);
  r.bytes(kMagicAndVersion);
  if (!read_strings(r, h)) return bad("truncated or oversized header strings");
  if (auto st = read_images(r, h); !st) return tl::unexpected(st.error());
  h.header_length = r.position();
  if (h.header_length > kMaxHeaderBytes) return bad("header too large");
  h.payload_length = checked.size() - h.header_length;
  if (auto st = place_patches(h.images, h.payload_length); !st) return tl::unexpected(st.error());
  for (const auto& image : h.images) {
    if (auto st = check_image(image, h.payload_length); !st) return tl::unexpected(st.error());
  }
  derive_firmware_digests(h);
  return h;
}

Result<Bytes> serialize_package_v2(PackageHeader header, ByteView payload) {
  if (auto st = check_back_to_back(header.images, payload.size()); !st) {
    return tl::unexpected(st.error());
  }
  Bytes out(kPackageMagic.begin(), kPackageMagic.end());
  put_u8(out, kFormatVersion2);
  put_u8(out, 0);  // flags
  put_strings(out, header);
  put_u8(out, static_cast<std::uint8_t>(header.images.size()));
  for (std::size_t i = 0; i < header.images.size(); ++i)
    put_entry(out, header.images[i], i + 1 == header.images.size());
  if (out.size() > kMaxHeaderBytes) return fail(ErrorCode::kInvalidInput, "header too large");
  put_bytes(out, payload);
  const Digest check = sha256(out);
  out.insert(out.end(), check.begin(), check.begin() + kPackageCheckBytes);
  return out;
}

void reseal_package_v2(Bytes& package) {
  if (package.size() < kMagicAndVersion + kPackageCheckBytes) return;
  const auto checked = std::span(package).first(package.size() - kPackageCheckBytes);
  const Digest check = sha256(checked);
  std::copy(check.begin(), check.begin() + kPackageCheckBytes, package.end() - kPackageCheckBytes);
}

}  // namespace vmodem::fota::detail
