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
  // An interrupted image restarted under the same name keeps the bytes it
  // already holds, like flash does across a power cut.
  const bool restarting = in_image_ && current_.name == image.name;
  if (in_image_ && !restarting)
    return fail(ErrorCode::kAborted, "begin_image inside another image");
  if (!restarting) current_ = FirmwareImage{image.name, {}};
  if (resume_offset > current_.data.size() && !restarting) {
    return fail(ErrorCode::kAborted, "resume offset beyond the stored image");
  }
  in_image_ = true;
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
