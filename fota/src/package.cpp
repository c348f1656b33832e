#include <algorithm>

#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"

namespace vmodem::fota {
namespace {

using detail::Bytes;
using detail::Reader;

constexpr std::size_t kFixedPrefix = 24;  // magic .. payload length
constexpr std::uint8_t kHasSource = 1, kHasTarget = 2;

void put_string(Bytes& out, std::string_view s) {
  detail::put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

bool read_string(Reader& r, std::string& out) {
  const std::uint16_t length = r.u16();
  if (!r.ok() || length > kMaxStringBytes) return false;
  out = r.string(length);
  return r.ok();
}

Digest read_digest(Reader& r) {
  Digest d{};
  const auto bytes = r.bytes(d.size());
  if (r.ok()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

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
  if (algorithm > static_cast<std::uint8_t>(PatchAlgorithm::kBsdiffThumb2)) {
    return fail(ErrorCode::kUnsupported, "unknown patch algorithm " + std::to_string(algorithm));
  }
  image.algorithm = static_cast<PatchAlgorithm>(algorithm);
  return image;
}

// Everything up to (not including) the payload digest and header digest.
Bytes header_body(const PackageHeader& h, std::uint32_t header_length) {
  Bytes out(kPackageMagic.begin(), kPackageMagic.end());
  detail::put_u16(out, h.format_version);
  detail::put_u16(out, 0);
  detail::put_u32(out, header_length);
  detail::put_u64(out, h.payload_length);
  put_string(out, h.model);
  put_string(out, h.source_version);
  put_string(out, h.target_version);
  detail::put_bytes(out, h.source_firmware_digest);
  detail::put_bytes(out, h.target_firmware_digest);
  detail::put_u16(out, static_cast<std::uint16_t>(h.images.size()));
  for (const auto& image : h.images) {
    put_string(out, image.name);
    detail::put_u8(out, static_cast<std::uint8_t>((image.has_source ? kHasSource : 0) |
                                                  (image.has_target ? kHasTarget : 0)));
    detail::put_u64(out, image.source_size);
    detail::put_bytes(out, image.source_digest);
    detail::put_u64(out, image.target_size);
    detail::put_bytes(out, image.target_digest);
    detail::put_u8(out, static_cast<std::uint8_t>(image.algorithm));
    detail::put_u64(out, image.patch_offset);
    detail::put_u64(out, image.patch_length);
  }
  return out;
}

}  // namespace

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
  const auto bad = [](const std::string& why) { return fail(ErrorCode::kBadPackage, why); };
  if (package.size() < kFixedPrefix + 64) return bad("package too short");
  if (!std::equal(kPackageMagic.begin(), kPackageMagic.end(), package.begin())) {
    return bad("not a vmodem delta package (bad magic)");
  }
  Reader r(package);
  r.bytes(kPackageMagic.size());
  PackageHeader h;
  h.format_version = r.u16();
  const std::uint16_t flags = r.u16();
  h.header_length = r.u32();
  h.payload_length = r.u64();
  if (h.format_version != kFormatVersion) {
    return fail(ErrorCode::kUnsupported,
                "package format version " + std::to_string(h.format_version));
  }
  if (flags != 0) return fail(ErrorCode::kUnsupported, "unknown package flags");
  if (h.header_length < kFixedPrefix + 64 || h.header_length > kMaxHeaderBytes ||
      h.header_length > package.size()) {
    return bad("header length out of range");
  }
  if (h.payload_length != package.size() - h.header_length) {
    return bad("package size does not match its header (truncated or padded)");
  }
  // Verify the header digest before trusting any other field.
  const auto header = package.first(h.header_length);
  const auto checked = header.first(h.header_length - 32);
  if (!std::equal(header.end() - 32, header.end(), sha256(checked).begin())) {
    return bad("header checksum mismatch");
  }
  h.header_digest = sha256(checked);
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
    for (const auto& other : h.images) {
      if (other.name == image->name) return bad("duplicate image name " + image->name);
    }
    h.images.push_back(std::move(*image));
  }
  h.payload_digest = read_digest(body);
  if (!body.ok() || body.remaining() != 0) return bad("header layout inconsistent");
  if (sha256(package.subspan(h.header_length)) != h.payload_digest) {
    return bad("payload checksum mismatch");
  }
  return h;
}

ByteView patch_bytes(ByteView package, const PackageHeader& header, const PackageImage& image) {
  return package.subspan(header.header_length + image.patch_offset, image.patch_length);
}

Result<std::vector<std::uint8_t>> serialize_package(PackageHeader header, ByteView payload) {
  const auto invalid = [](const std::string& why) { return fail(ErrorCode::kInvalidInput, why); };
  for (const auto* s : {&header.model, &header.source_version, &header.target_version}) {
    if (s->size() > kMaxStringBytes) return invalid("string longer than 64 bytes: " + *s);
  }
  if (header.images.empty() || header.images.size() > kMaxImages) return invalid("1..64 images");
  header.payload_length = payload.size();
  for (const auto& image : header.images) {
    if (auto st = check_image(image, payload.size()); !st) return invalid(st.error().message);
  }
  header.payload_digest = sha256(payload);
  const Bytes probe = header_body(header, 0);
  const auto header_length = static_cast<std::uint32_t>(probe.size() + 64);
  if (header_length > kMaxHeaderBytes) return invalid("header too large");
  Bytes out = header_body(header, header_length);
  detail::put_bytes(out, header.payload_digest);
  const Digest header_digest = sha256(out);
  detail::put_bytes(out, header_digest);
  detail::put_bytes(out, payload);
  return out;
}

}  // namespace vmodem::fota
