#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <optional>
#include <system_error>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/package.hpp>

#include "byte_io.hpp"

namespace vmodem::fota {

const FirmwareImage* FirmwareBundle::find(std::string_view name) const {
  for (const auto& image : images) {
    if (image.name == name) return &image;
  }
  return nullptr;
}

Digest firmware_digest(std::vector<ImageIdentity> images) {
  std::sort(images.begin(), images.end(),
            [](const ImageIdentity& a, const ImageIdentity& b) { return a.name < b.name; });
  detail::Bytes canonical;
  for (const auto& image : images) {
    detail::put_u16(canonical, static_cast<std::uint16_t>(image.name.size()));
    canonical.insert(canonical.end(), image.name.begin(), image.name.end());
    detail::put_u64(canonical, image.size);
    detail::put_bytes(canonical, image.digest);
  }
  return sha256(canonical);
}

Digest firmware_digest(const FirmwareBundle& bundle) {
  std::vector<ImageIdentity> ids;
  for (const auto& image : bundle.images) {
    ids.push_back({image.name, image.data.size(), sha256(image.data)});
  }
  return firmware_digest(std::move(ids));
}

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "cannot open " + path.string());
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return fail(ErrorCode::kIo, "cannot size " + path.string());
  if (static_cast<std::uint64_t>(size) > max_bytes) {
    return fail(ErrorCode::kInvalidInput, path.string() + " is larger than allowed");
  }
  in.seekg(0);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(data.data()), size)) {
    return fail(ErrorCode::kIo, "cannot read " + path.string());
  }
  return data;
}

namespace {

// Why `path` may not be replaced: only a regular file (or a free name) is.
// A device, a FIFO, a directory or a symlink (to whatever) is refused.
std::optional<std::string> not_replaceable(const std::filesystem::path& path) {
  std::error_code ec;
  const auto type = std::filesystem::symlink_status(path, ec).type();
  if (type == std::filesystem::file_type::not_found ||
      type == std::filesystem::file_type::regular) {
    return std::nullopt;
  }
  return path.string() + " is not a regular file; nothing was written";
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> data) {
  if (auto why = not_replaceable(path)) return fail(ErrorCode::kIo, *why);
  // A temporary name of its own beside the target (mkstemp never reuses a
  // name that exists), so no file of the user's is ever written over.
  std::string temp = path.string() + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return fail(ErrorCode::kIo, "cannot create a temporary file beside " + path.string());
  (void)::fchmod(fd, 0644);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool closed = ::close(fd) == 0;
  const auto give_up = [&temp](const std::string& why) {
    ::unlink(temp.c_str());
    return fail(ErrorCode::kIo, why);
  };
  if (done != data.size() || !closed) return give_up("cannot write " + temp);
  // Looked at again right before the rename: the name may have become
  // something else meanwhile.
  if (auto why = not_replaceable(path)) return give_up(*why);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return give_up("cannot rename to " + path.string() + ": " +
                   std::error_code(errno, std::generic_category()).message());
  }
  return {};
}

Result<FirmwareBundle> parse_manifest(std::string_view json_text,
                                      const std::filesystem::path& base_dir) {
  const auto invalid = [](const std::string& why) {
    return fail(ErrorCode::kInvalidInput, "manifest: " + why);
  };
  const auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return invalid("not a JSON object");
  FirmwareBundle bundle;
  const auto string_field = [&](const char* key, std::string& out) {
    const auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return !out.empty() && out.size() <= kMaxStringBytes;
  };
  if (!string_field("model", bundle.model)) return invalid("\"model\" must be a 1..64 byte string");
  if (!string_field("version", bundle.version))
    return invalid("\"version\" must be a 1..64 byte string");
  const auto images = doc.find("images");
  if (images == doc.end() || !images->is_array() || images->empty() ||
      images->size() > kMaxImages) {
    return invalid("\"images\" must list 1..64 images");
  }
  for (const auto& entry : *images) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("file") ||
        !entry["name"].is_string() || !entry["file"].is_string()) {
      return invalid("each image needs string \"name\" and \"file\"");
    }
    FirmwareImage image;
    image.name = entry["name"].get<std::string>();
    if (!valid_image_name(image.name)) return invalid("bad image name '" + image.name + "'");
    if (bundle.find(image.name) != nullptr) return invalid("duplicate image '" + image.name + "'");
    auto data = read_file(base_dir / entry["file"].get<std::string>(), kMaxImageBytes);
    if (!data) return tl::unexpected(data.error());
    image.data = std::move(*data);
    bundle.images.push_back(std::move(image));
  }
  return bundle;
}

Result<FirmwareBundle> load_bundle(const std::filesystem::path& path,
                                   const BundleDefaults& defaults) {
  if (path.extension() == ".json") {
    auto text = read_file(path, 1 << 20);
    if (!text) return tl::unexpected(text.error());
    return parse_manifest(
        std::string_view(reinterpret_cast<const char*>(text->data()), text->size()),
        path.parent_path());
  }
  auto data = read_file(path, kMaxImageBytes * 4);
  if (!data) return tl::unexpected(data.error());
  if (is_bundle_file(*data)) return parse_bundle(*data);
  if (data->size() > kMaxImageBytes) return fail(ErrorCode::kInvalidInput, "image too large");
  FirmwareBundle bundle;
  bundle.model = defaults.model;
  bundle.version = defaults.version.empty() ? path.stem().string() : defaults.version;
  if (bundle.version.size() > kMaxStringBytes || bundle.model.size() > kMaxStringBytes) {
    return fail(ErrorCode::kInvalidInput, "version/model longer than 64 bytes");
  }
  if (!valid_image_name(defaults.image_name))
    return fail(ErrorCode::kInvalidInput, "bad image name");
  bundle.images.push_back({defaults.image_name, std::move(*data)});
  return bundle;
}

namespace {

std::string image_file_name(const std::string& image) {
  if (image == "." || image == ".." || image == "manifest.json") return "image-" + image;
  return image;
}

// Creates `path`, which must not exist (O_EXCL: nothing is ever replaced),
// and writes `data`; a failed write removes the file it created.
Status write_new_file(const std::filesystem::path& path, std::span<const std::uint8_t> data) {
  std::FILE* file = std::fopen(path.c_str(), "wbx");
  if (file == nullptr) return fail(ErrorCode::kIo, "cannot create " + path.string());
  const bool written = std::fwrite(data.data(), 1, data.size(), file) == data.size();
  if (std::fclose(file) != 0 || !written) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return fail(ErrorCode::kIo, "cannot write " + path.string());
  }
  return {};
}

}  // namespace

Result<std::vector<std::filesystem::path>> write_bundle_directory(const FirmwareBundle& bundle,
                                                                  const std::filesystem::path& dir,
                                                                  ExistingFiles existing) {
  nlohmann::json manifest{
      {"model", bundle.model}, {"version", bundle.version}, {"images", nlohmann::json::array()}};
  std::vector<std::pair<std::filesystem::path, std::span<const std::uint8_t>>> files;
  for (const auto& image : bundle.images) {
    const auto name = image_file_name(image.name);
    manifest["images"].push_back({{"name", image.name}, {"file", name}});
    files.emplace_back(dir / name, image.data);
  }
  std::string text;
  try {
    text = manifest.dump(2) + "\n";
  } catch (const nlohmann::json::type_error&) {
    // A firmware's strings are bytes; JSON holds only UTF-8 (image names are
    // checked ASCII), and altering them would bind the files to another model.
    return fail(ErrorCode::kUnsupported,
                "the firmware's model or version is not UTF-8 text, which manifest.json cannot "
                "hold");
  }
  files.emplace_back(dir / "manifest.json",
                     std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
  if (existing == ExistingFiles::refuse) {
    for (const auto& [path, data] : files) {
      if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found)
        return fail(ErrorCode::kIo, path.string() + " exists; nothing was written");
    }
  }
  std::vector<std::filesystem::path> written;
  for (const auto& [path, data] : files) {
    const auto st = existing == ExistingFiles::refuse ? write_new_file(path, data)
                                                      : write_file_atomic(path, data);
    if (!st) return tl::unexpected(st.error());
    written.push_back(path);
  }
  return written;
}

}  // namespace vmodem::fota
