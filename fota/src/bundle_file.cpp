// The one-file firmware bundle (see bundle.hpp).
#include <algorithm>
#include <array>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"

namespace vmodem::fota {

namespace {

constexpr std::array<std::uint8_t, 8> kBundleMagic = {'V', 'M', 'F', 'W', 'B', 'N', 'D', 'L'};
constexpr std::uint16_t kBundleFormat = 1;

void put_string(detail::Bytes& out, const std::string& s) {
  detail::put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

bool is_bundle_file(std::span<const std::uint8_t> data) {
  return data.size() >= kBundleMagic.size() &&
         std::equal(kBundleMagic.begin(), kBundleMagic.end(), data.begin());
}

std::vector<std::uint8_t> serialize_bundle(const FirmwareBundle& bundle) {
  detail::Bytes out(kBundleMagic.begin(), kBundleMagic.end());
  detail::put_u16(out, kBundleFormat);
  put_string(out, bundle.model);
  put_string(out, bundle.version);
  detail::put_u16(out, static_cast<std::uint16_t>(bundle.images.size()));
  for (const auto& image : bundle.images) {
    put_string(out, image.name);
    detail::put_u64(out, image.data.size());
    detail::put_bytes(out, sha256(image.data));
  }
  detail::put_bytes(out, sha256(out));
  for (const auto& image : bundle.images)
    detail::put_bytes(out, image.data);
  return out;
}

Result<FirmwareBundle> parse_bundle(std::span<const std::uint8_t> file) {
  if (!is_bundle_file(file)) return fail(ErrorCode::kBadPackage, "not a firmware bundle");
  detail::Reader r(file.subspan(kBundleMagic.size()));
  if (r.u16() != kBundleFormat) return fail(ErrorCode::kUnsupported, "unknown bundle format");
  const auto string = [&r]() -> std::string {
    const std::uint16_t n = r.u16();
    return n <= kMaxStringBytes ? r.string(n) : r.string(r.remaining() + 1);
  };
  FirmwareBundle bundle;
  bundle.model = string();
  bundle.version = string();
  const std::uint16_t count = r.u16();
  if (count == 0 || count > kMaxImages) return fail(ErrorCode::kBadPackage, "bad image count");
  struct Entry {
    std::string name;
    std::uint64_t size;
    Digest digest;
  };
  std::vector<Entry> entries;
  for (std::uint16_t i = 0; i < count && r.ok(); ++i) {
    Entry e;
    e.name = string();
    e.size = r.u64();
    const auto d = r.bytes(32);
    std::copy(d.begin(), d.end(), e.digest.begin());
    entries.push_back(std::move(e));
  }
  const std::size_t header = kBundleMagic.size() + r.position();
  const auto check = r.bytes(32);
  if (!r.ok()) return fail(ErrorCode::kBadPackage, "bundle header truncated");
  const Digest expected = sha256(file.first(header));
  if (!std::equal(expected.begin(), expected.end(), check.begin())) {
    return fail(ErrorCode::kBadPackage, "bundle header checksum mismatch");
  }
  for (const auto& e : entries) {
    if (!valid_image_name(e.name) || e.size > kMaxImageBytes) {
      return fail(ErrorCode::kInvalidInput, "bad image entry in the bundle");
    }
    const auto data = r.bytes(e.size);
    if (!r.ok()) return fail(ErrorCode::kBadPackage, "bundle truncated in image " + e.name);
    if (sha256(data) != e.digest) {
      return fail(ErrorCode::kBadPackage, "image " + e.name + " does not match its SHA-256");
    }
    bundle.images.push_back({e.name, {data.begin(), data.end()}});
  }
  if (r.remaining() != 0) return fail(ErrorCode::kBadPackage, "trailing bytes after the bundle");
  return bundle;
}

}  // namespace vmodem::fota
