// In-memory SourceImages / TargetSink over FirmwareBundle: what the offline
// `vmodem delta apply`, the generator's self-check and the tests use.
#pragma once

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/bundle.hpp>

namespace vmodem::fota {

// Serves the images of a bundle the caller keeps alive.
class BundleSource final : public SourceImages {
 public:
  explicit BundleSource(const FirmwareBundle& bundle) : bundle_(bundle) {}
  Result<ByteView> image(std::string_view name) override;

 private:
  const FirmwareBundle& bundle_;
};

// Collects the target images into a bundle. Enforces the TargetSink call
// contract (order, offsets, sizes) and reports violations as kAborted, so
// tests catch an applier that breaks it. After an interrupted image, the same
// sink accepts begin_image for it again with a resume offset and keeps the
// bytes written so far (as flash would).
class BundleSink final : public TargetSink {
 public:
  Status begin_image(std::size_t index, const PackageImage& image,
                     std::uint64_t resume_offset) override;
  Status write(std::uint64_t offset, ByteView chunk) override;
  Status end_image(std::size_t index, const PackageImage& image) override;

  // Completed images, in package order (removed images are absent).
  const FirmwareBundle& bundle() const { return bundle_; }
  FirmwareBundle& bundle() { return bundle_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  FirmwareBundle bundle_;
  FirmwareImage current_;
  bool in_image_ = false;
  std::uint64_t expected_offset_ = 0;
  std::uint64_t bytes_written_ = 0;
};

}  // namespace vmodem::fota
