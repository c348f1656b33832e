#include <vmodem/fota/memory_io.hpp>

namespace vmodem::fota {

Result<ByteView> BundleSource::image(std::string_view name) {
  const auto* image = bundle_.find(name);
  if (image == nullptr) {
    return fail(ErrorCode::kFirmwareMismatch,
                "current firmware has no image '" + std::string(name) + "'");
  }
  return ByteView(image->data);
}

Status BundleSink::begin_image(std::size_t /*index*/, const PackageImage& image,
                               std::uint64_t resume_offset) {
  if (in_image_) return fail(ErrorCode::kAborted, "begin_image inside an image");
  in_image_ = true;
  // Resuming into a fresh sink: keep whatever prefix a previous sink held
  // under this name (tests copy it over), else start from zeros.
  current_ = FirmwareImage{image.name, {}};
  if (const auto* previous = bundle_.find(image.name)) current_.data = previous->data;
  current_.data.resize(image.target_size);
  expected_offset_ = resume_offset;
  return {};
}

Status BundleSink::write(std::uint64_t offset, ByteView chunk) {
  if (!in_image_) return fail(ErrorCode::kAborted, "write outside an image");
  if (offset != expected_offset_ || chunk.size() > current_.data.size() - offset) {
    return fail(ErrorCode::kAborted, "write out of order or beyond the image");
  }
  std::copy(chunk.begin(), chunk.end(),
            current_.data.begin() + static_cast<std::ptrdiff_t>(offset));
  expected_offset_ += chunk.size();
  bytes_written_ += chunk.size();
  return {};
}

Status BundleSink::end_image(std::size_t /*index*/, const PackageImage& image) {
  if (!in_image_ || current_.name != image.name)
    return fail(ErrorCode::kAborted, "end_image mismatch");
  in_image_ = false;
  if (!image.has_target) {
    std::erase_if(bundle_.images, [&](const FirmwareImage& i) { return i.name == image.name; });
    return {};
  }
  if (expected_offset_ != image.target_size) return fail(ErrorCode::kAborted, "image incomplete");
  std::erase_if(bundle_.images, [&](const FirmwareImage& i) { return i.name == image.name; });
  bundle_.images.push_back(std::move(current_));
  return {};
}

}  // namespace vmodem::fota
