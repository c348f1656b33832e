// Application packages (app_package.hpp; layout in fota/FORMAT.md). The
// container is small and separate from the firmware one; the patches are the
// firmware packages' image patches, made and read by the same code.
#include <algorithm>
#include <chrono>
#include <map>

#include <vmodem/fota/app_package.hpp>

#include "byte_io.hpp"
#include "image_patch.hpp"
#include "package_format.hpp"

namespace vmodem::fota {

namespace {

using detail::Bytes;
using detail::put_bytes;
using detail::put_u8;
using detail::put_varint;
using detail::Reader;

constexpr std::uint8_t kKindReserved = 0x0C;  // kind bits 2 and 3
constexpr int kAlgorithmShift = 4;            // kind bits 4..7
constexpr std::size_t kFixedHead = 10;        // magic, format, flags

tl::unexpected<Error> bad(const std::string& why) {
  return fail(ErrorCode::kBadPackage, why);
}

// A file's source and target are read whole into memory: limits as images.
bool size_ok(std::uint64_t size) {
  return size <= kMaxImageBytes;
}

// Printable ASCII: the model is compared with the profile's and printed.
bool valid_model(std::string_view model) {
  return model.size() <= kMaxStringBytes &&
         std::all_of(model.begin(), model.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

FileDigest read_file_digest(Reader& r) {
  FileDigest d{};
  const ByteView bytes = r.bytes(d.size());
  if (bytes.size() == d.size()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

// `previous`: the entry before's path; a path is stored as the bytes it
// shares with it and the rest (50 files of one directory cost their
// directory once).
Result<AppPackageFile> read_entry(Reader& r, const std::string& previous) {
  AppPackageFile file;
  const std::uint8_t kind = r.u8();
  const auto algorithm = static_cast<std::uint8_t>(kind >> kAlgorithmShift);
  if (!r.ok()) return bad("truncated file entry");
  if ((kind & kKindReserved) != 0) return fail(ErrorCode::kUnsupported, "unknown file flags");
  if (algorithm > static_cast<std::uint8_t>(kLastPatchAlgorithm))
    return fail(ErrorCode::kUnsupported, "unknown patch algorithm " + std::to_string(algorithm));
  file.has_source = (kind & detail::kHasSource) != 0;
  file.has_target = (kind & detail::kHasTarget) != 0;
  file.algorithm = static_cast<PatchAlgorithm>(algorithm);
  const std::uint64_t shared = r.varint().value_or(0);
  const std::uint64_t length = r.varint().value_or(0);
  if (!r.ok() || shared > previous.size() || length == 0 || shared + length > kMaxAppPathBytes)
    return bad("bad path length");
  file.path = previous.substr(0, shared) + r.string(length);
  if (!r.ok()) return bad("truncated file entry");
  if (!valid_app_path(file.path)) return bad("'" + file.path + "' is not a path under /usr");
  if (!file.has_source && !file.has_target) return bad(file.path + ": neither source nor target");
  if (file.has_target == (file.algorithm == PatchAlgorithm::kNone))
    return bad(file.path + ": patch algorithm and target disagree");
  if (file.has_source) {
    file.source_size = r.varint().value_or(0);
    file.source_digest = read_file_digest(r);
  }
  if (file.has_target) {
    file.target_size = r.varint().value_or(0);
    file.target_digest = read_file_digest(r);
    file.patch_length = r.varint().value_or(0);
  }
  if (!r.ok()) return bad("truncated file entry");
  if (!size_ok(file.source_size) || !size_ok(file.target_size))
    return bad(file.path + ": size beyond the limit");
  return file;
}

void put_entry(Bytes& out, const AppPackageFile& file, const std::string& previous) {
  put_u8(out,
         static_cast<std::uint8_t>((file.has_source ? detail::kHasSource : 0) |
                                   (file.has_target ? detail::kHasTarget : 0) |
                                   (static_cast<unsigned>(file.algorithm) << kAlgorithmShift)));
  // At most all of `previous`, and never the whole path: the rest is
  // never empty.
  std::size_t shared = 0;
  while (shared < previous.size() && shared + 1 < file.path.size() &&
         previous[shared] == file.path[shared])
    ++shared;
  put_varint(out, shared);
  put_varint(out, file.path.size() - shared);
  out.insert(out.end(), file.path.begin() + static_cast<std::ptrdiff_t>(shared), file.path.end());
  if (file.has_source) {
    put_varint(out, file.source_size);
    put_bytes(out, file.source_digest);
  }
  if (file.has_target) {
    put_varint(out, file.target_size);
    put_bytes(out, file.target_digest);
    put_varint(out, file.patch_length);
  }
}

// The patch of `file` parsed against its sizes (kBadPackage / kUnsupported).
Result<detail::ParsedPatch> parse_patch(ByteView package, const AppPackage& header,
                                        const AppPackageFile& file) {
  const ByteView patch =
      package.subspan(header.header_length + file.patch_offset, file.patch_length);
  auto parsed = detail::parse_image_patch(static_cast<std::uint8_t>(file.algorithm), patch,
                                          file.source_size, file.target_size);
  if (!parsed) return fail(parsed.error().code, file.path + ": " + parsed.error().message);
  return parsed;
}

Result<Bytes> decode(const detail::ParsedPatch& parsed, ByteView source, std::uint64_t size) {
  auto patcher = detail::ImagePatcher::start(parsed, source);
  if (!patcher) return tl::unexpected(patcher.error());
  Bytes out(size);
  if (auto st = (*patcher)->produce(out); !st)
    return fail(ErrorCode::kUnpackFailed, st.error().message);
  return out;
}

std::string hex(const FileDigest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

FileDigest file_digest(ByteView data) {
  const Digest full = sha256(data);
  FileDigest d{};
  std::copy(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(d.size()), d.begin());
  return d;
}

bool is_app_package(ByteView data) {
  return data.size() >= kAppPackageMagic.size() &&
         std::equal(kAppPackageMagic.begin(), kAppPackageMagic.end(), data.begin());
}

bool valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t more = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      more = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      more = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      more = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + more >= bytes.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= more; ++k) {
      const auto b = static_cast<unsigned char>(bytes[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += more + 1;
  }
  return true;
}

bool valid_app_path(std::string_view path) {
  if (path.size() > kMaxAppPathBytes || !path.starts_with(kAppRoot)) return false;
  std::string_view rest = path.substr(kAppRoot.size());
  if (rest.size() < 2 || rest.front() != '/') return false;
  rest.remove_prefix(1);
  for (;;) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty() || part.size() > kMaxAppComponentBytes || part == "." || part == "..")
      return false;
    for (const char c : part) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7f || c == '\\') return false;
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // Paths reach JSON (delta info, the module's events) and a host's file
  // names: bytes that are not UTF-8 would be refused there.
  return valid_utf8(path);
}

Result<AppPackage> parse_app_package(ByteView package) {
  if (!is_app_package(package)) return bad("not an application package");
  if (package.size() < kFixedHead + kPackageCheckBytes) return bad("package too short");
  if (package[8] != kAppFormatVersion) {
    return fail(ErrorCode::kUnsupported,
                "application package format " + std::to_string(package[8]));
  }
  if (package[9] != 0) return fail(ErrorCode::kUnsupported, "unknown package flags");
  // The check first: no other field is trusted before it.
  const auto checked = package.first(package.size() - kPackageCheckBytes);
  AppPackage h;
  h.package_id = sha256(checked);
  if (!std::equal(checked.end(), package.end(), h.package_id.begin()))
    return bad("package checksum mismatch (damaged or truncated)");
  Reader r(checked);
  r.bytes(kFixedHead);
  const std::uint8_t model_length = r.u8();
  if (!r.ok() || model_length > kMaxStringBytes) return bad("bad model string");
  h.model = r.string(model_length);
  if (!r.ok() || !valid_model(h.model)) return bad("bad model string");
  const std::uint64_t count = r.varint().value_or(0);
  if (!r.ok() || count == 0 || count > kMaxAppFiles) return bad("file count out of range");
  std::uint64_t offset = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    auto file = read_entry(r, h.files.empty() ? std::string() : h.files.back().path);
    if (!file) return tl::unexpected(file.error());
    if (!h.files.empty() && h.files.back().path >= file->path)
      return bad(file->path + ": paths not sorted or repeated");
    file->patch_offset = offset;
    offset += file->patch_length;
    h.files.push_back(std::move(*file));
  }
  h.header_length = r.position();
  h.payload_length = checked.size() - h.header_length;
  if (offset != h.payload_length) return bad("patch lengths do not fill the payload");
  for (const AppPackageFile& file : h.files) {
    if (!file.has_target) continue;
    if (auto parsed = parse_patch(package, h, file); !parsed) return tl::unexpected(parsed.error());
  }
  return h;
}

Result<std::vector<std::uint8_t>> make_app_package(std::string_view model,
                                                   const std::vector<AppFile>& old_files,
                                                   const std::vector<AppFile>& new_files,
                                                   const AppMakeOptions& options,
                                                   AppMakeStats* stats) {
  const auto started = std::chrono::steady_clock::now();
  if (!valid_model(model))
    return fail(ErrorCode::kInvalidInput, "the model must be at most 64 printable ASCII bytes");
  // Both trees by path; a path given twice is a caller's mistake.
  std::map<std::string, const AppFile*> old_by_path, new_by_path;
  for (auto [files, by_path] :
       {std::pair{&old_files, &old_by_path}, std::pair{&new_files, &new_by_path}}) {
    for (const AppFile& file : *files) {
      if (!valid_app_path(file.path))
        return fail(ErrorCode::kInvalidInput, "'" + file.path + "' is not a path under /usr");
      if (!size_ok(file.data.size()))
        return fail(ErrorCode::kInvalidInput, file.path + " is larger than 128 MiB");
      if (!by_path->emplace(file.path, &file).second)
        return fail(ErrorCode::kInvalidInput, file.path + " given twice");
    }
  }
  std::map<std::string, std::pair<const AppFile*, const AppFile*>> all;
  for (const auto& [path, file] : old_by_path)
    all[path].first = file;
  for (const auto& [path, file] : new_by_path)
    all[path].second = file;
  AppMakeStats counted;
  detail::PatchEncodeOptions encode;
  encode.architecture = Architecture::kNone;  // scripts and settings, not code
  encode.exhaustive_codecs = options.thorough;
  encode.short_stored_frames = true;
  if (!options.thorough) encode.min_gains = {8};
  AppPackage header;
  header.model = std::string(model);
  Bytes payload;
  for (const auto& [path, pair] : all) {
    const auto [old_file, new_file] = pair;
    if (old_file && new_file && old_file->data == new_file->data) {
      ++counted.unchanged;
      continue;
    }
    AppPackageFile entry;
    entry.path = path;
    if (old_file) {
      entry.has_source = true;
      entry.source_size = old_file->data.size();
      entry.source_digest = file_digest(old_file->data);
    }
    if (new_file) {
      entry.has_target = true;
      entry.target_size = new_file->data.size();
      entry.target_digest = file_digest(new_file->data);
      const ByteView source = old_file ? ByteView(old_file->data) : ByteView();
      auto patch = detail::encode_image_patch(source, new_file->data, encode);
      if (!patch) return tl::unexpected(patch.error());
      entry.algorithm = patch->breakdown.algorithm;
      entry.patch_offset = payload.size();
      entry.patch_length = patch->bytes.size();
      put_bytes(payload, patch->bytes);
    }
    ++(old_file ? (new_file ? counted.changed : counted.removed) : counted.added);
    header.files.push_back(std::move(entry));
  }
  if (header.files.empty()) return fail(ErrorCode::kInvalidInput, "the two trees are identical");
  if (header.files.size() > kMaxAppFiles)
    return fail(ErrorCode::kInvalidInput, "more than 4096 files change");
  Bytes out(kAppPackageMagic.begin(), kAppPackageMagic.end());
  put_u8(out, kAppFormatVersion);
  put_u8(out, 0);  // flags
  put_u8(out, static_cast<std::uint8_t>(header.model.size()));
  out.insert(out.end(), header.model.begin(), header.model.end());
  put_varint(out, header.files.size());
  std::string previous;
  for (const AppPackageFile& file : header.files) {
    put_entry(out, file, previous);
    previous = file.path;
  }
  put_bytes(out, payload);
  const Digest check = sha256(out);
  out.insert(out.end(), check.begin(), check.begin() + kPackageCheckBytes);
  if (options.verify) {
    auto parsed = parse_app_package(out);
    if (!parsed) return fail(ErrorCode::kUnpackFailed, "verification: " + parsed.error().message);
    for (const AppPackageFile& file : parsed->files) {
      if (!file.has_target) continue;
      const AppFile* old_file = all[file.path].first;
      const ByteView source = old_file ? ByteView(old_file->data) : ByteView();
      if (auto made = app_file_target(out, *parsed, file, source); !made)
        return fail(ErrorCode::kUnpackFailed, "verification: " + made.error().message);
    }
  }
  counted.package_size = out.size();
  counted.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stats) *stats = counted;
  return out;
}

Result<std::vector<std::uint8_t>> app_file_target(ByteView package, const AppPackage& header,
                                                  const AppPackageFile& file, ByteView source) {
  if (!file.has_target) return fail(ErrorCode::kInvalidInput, file.path + " is removed");
  const std::uint64_t expected_size = file.has_source ? file.source_size : 0;
  if (source.size() != expected_size ||
      (file.has_source && file_digest(source) != file.source_digest))
    return fail(ErrorCode::kFirmwareMismatch, file.path + " is not the package's source");
  auto parsed = parse_patch(package, header, file);
  if (!parsed) return tl::unexpected(parsed.error());
  auto out = decode(*parsed, source, file.target_size);
  if (!out) return fail(ErrorCode::kUnpackFailed, file.path + ": " + out.error().message);
  if (file_digest(*out) != file.target_digest)
    return fail(ErrorCode::kUnpackFailed, file.path + ": the result is not the target");
  return out;
}

nlohmann::json to_json(const AppPackage& package) {
  nlohmann::json files = nlohmann::json::array();
  std::uint32_t added = 0, changed = 0, removed = 0;
  for (const AppPackageFile& file : package.files) {
    nlohmann::json one = {{"path", file.path}};
    if (file.added()) {
      one["change"] = "added";
      ++added;
    } else if (file.removed()) {
      one["change"] = "removed";
      ++removed;
    } else {
      one["change"] = "changed";
      ++changed;
    }
    if (file.has_source) {
      one["source_size"] = file.source_size;
      one["source_digest"] = hex(file.source_digest);
    }
    if (file.has_target) {
      one["target_size"] = file.target_size;
      one["target_digest"] = hex(file.target_digest);
      one["algorithm"] = algorithm_name(file.algorithm);
      one["patch_size"] = file.patch_length;
    }
    files.push_back(std::move(one));
  }
  return {{"kind", "app"},
          {"format", kAppFormatVersion},
          {"model", package.model},
          {"package_id", to_hex(package.package_id)},
          {"header_size", package.header_length},
          {"payload_size", package.payload_length},
          {"added", added},
          {"changed", changed},
          {"removed", removed},
          {"files", std::move(files)}};
}

}  // namespace vmodem::fota
