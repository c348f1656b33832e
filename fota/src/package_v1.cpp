// Package format 1: fixed-width fields, five SHA-256 digests (fota/FORMAT.md).
#include <algorithm>

#include "package_format.hpp"

namespace vmodem::fota::detail {
namespace {

constexpr std::size_t kFixedPrefix = 24;  // magic .. payload length
constexpr std::size_t kDigests = 64;      // payload digest, header digest

void put_string(Bytes& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

bool read_string(Reader& r, std::string& out) {
  const std::uint16_t length = r.u16();
  if (!r.ok() || length > kMaxStringBytes) return false;
  out = r.string(length);
  return r.ok();
}

Result<PackageImage> read_image(Reader& r) {
  PackageImage image;
  if (!read_string(r, image.name)) return fail(ErrorCode::kBadPackage, "truncated image entry");
  const std::uint8_t flags = r.u8();
  image.has_source = (flags & kHasSource) != 0;
  image.has_target = (flags & kHasTarget) != 0;
  image.source_size = r.u64();
  image.source_digest = read_digest(r);
  image.target_size = r.u64();
  image.target_digest = read_digest(r);
  const std::uint8_t algorithm = r.u8();
  image.patch_offset = r.u64();
  image.patch_length = r.u64();
  if (!r.ok()) return fail(ErrorCode::kBadPackage, "truncated image entry");
  if ((flags & ~(kHasSource | kHasTarget)) != 0) {
    return fail(ErrorCode::kUnsupported, "unknown image flags");
  }
  if (algorithm > static_cast<std::uint8_t>(kLastPatchAlgorithm)) {
    return fail(ErrorCode::kUnsupported, "unknown patch algorithm " + std::to_string(algorithm));
  }
  image.algorithm = static_cast<PatchAlgorithm>(algorithm);
  return image;
}

// Everything up to (not including) the payload digest and header digest.
Bytes header_body(const PackageHeader& h, std::uint32_t header_length) {
  Bytes out(kPackageMagic.begin(), kPackageMagic.end());
  put_u16(out, kFormatVersion1);
  put_u16(out, 0);
  put_u32(out, header_length);
  put_u64(out, h.payload_length);
  put_string(out, h.model);
  put_string(out, h.source_version);
  put_string(out, h.target_version);
  put_bytes(out, h.source_firmware_digest);
  put_bytes(out, h.target_firmware_digest);
  put_u16(out, static_cast<std::uint16_t>(h.images.size()));
  for (const auto& image : h.images) {
    put_string(out, image.name);
    put_u8(out, static_cast<std::uint8_t>((image.has_source ? kHasSource : 0) |
                                          (image.has_target ? kHasTarget : 0)));
    put_u64(out, image.source_size);
    put_bytes(out, image.source_digest);
    put_u64(out, image.target_size);
    put_bytes(out, image.target_digest);
    put_u8(out, static_cast<std::uint8_t>(image.algorithm));
    put_u64(out, image.patch_offset);
    put_u64(out, image.patch_length);
  }
  return out;
}

// The header length field, or 0 if the package is too short to hold one.
std::uint32_t header_length_field(ByteView package) {
  if (package.size() < kFixedPrefix) return 0;
  Reader r(package.subspan(12, 4));
  return r.u32();
}

}  // namespace

Result<PackageHeader> parse_package_v1(ByteView package) {
  const auto bad = [](const std::string& why) { return fail(ErrorCode::kBadPackage, why); };
  if (package.size() < kFixedPrefix + kDigests) return bad("package too short");
  Reader r(package);
  r.bytes(kPackageMagic.size());
  PackageHeader h;
  h.format_version = r.u16();
  const std::uint16_t flags = r.u16();
  h.header_length = r.u32();
  h.payload_length = r.u64();
  if (h.format_version != kFormatVersion1) {
    return fail(ErrorCode::kUnsupported,
                "package format version " + std::to_string(h.format_version));
  }
  if (flags != 0) return fail(ErrorCode::kUnsupported, "unknown package flags");
  if (h.header_length < kFixedPrefix + kDigests || h.header_length > kMaxHeaderBytes ||
      h.header_length > package.size()) {
    return bad("header length out of range");
  }
  if (h.payload_length != package.size() - h.header_length) {
    return bad("package size does not match its header (truncated or padded)");
  }
  // Verify the header digest before trusting any other field.
  const auto header = package.first(h.header_length);
  const auto checked = header.first(h.header_length - 32);
  h.package_id = sha256(checked);
  if (!std::equal(header.end() - 32, header.end(), h.package_id.begin())) {
    return bad("header checksum mismatch");
  }
  Reader body(checked);
  body.bytes(kFixedPrefix);
  if (!read_string(body, h.model) || !read_string(body, h.source_version) ||
      !read_string(body, h.target_version)) {
    return bad("truncated header strings");
  }
  h.source_firmware_digest = read_digest(body);
  h.target_firmware_digest = read_digest(body);
  const std::uint16_t count = body.u16();
  if (!body.ok() || count == 0 || count > kMaxImages) return bad("image count out of range");
  for (std::uint16_t i = 0; i < count; ++i) {
    auto image = read_image(body);
    if (!image) return tl::unexpected(image.error());
    if (auto st = check_image(*image, h.payload_length); !st) return tl::unexpected(st.error());
    if (auto st = check_unique_name(h.images, image->name); !st) return tl::unexpected(st.error());
    h.images.push_back(std::move(*image));
  }
  h.payload_digest = read_digest(body);
  if (!body.ok() || body.remaining() != 0) return bad("header layout inconsistent");
  if (sha256(package.subspan(h.header_length)) != h.payload_digest) {
    return bad("payload checksum mismatch");
  }
  return h;
}

Result<Bytes> serialize_package_v1(PackageHeader header, ByteView payload) {
  header.payload_length = payload.size();
  header.payload_digest = sha256(payload);
  const Bytes probe = header_body(header, 0);
  const auto header_length = static_cast<std::uint32_t>(probe.size() + kDigests);
  if (header_length > kMaxHeaderBytes) return fail(ErrorCode::kInvalidInput, "header too large");
  Bytes out = header_body(header, header_length);
  put_bytes(out, header.payload_digest);
  put_bytes(out, sha256(out));
  put_bytes(out, payload);
  return out;
}

void reseal_package_v1(Bytes& package) {
  const std::uint32_t header_length = header_length_field(package);
  if (header_length < kDigests || header_length > package.size()) return;
  const Digest payload = sha256(std::span(package).subspan(header_length));
  std::copy(payload.begin(), payload.end(), package.begin() + header_length - kDigests);
  const Digest header = sha256(std::span(package).first(header_length - 32));
  std::copy(header.begin(), header.end(), package.begin() + header_length - 32);
}

}  // namespace vmodem::fota::detail
