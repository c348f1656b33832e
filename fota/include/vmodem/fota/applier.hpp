// The streaming, resumable package applier.
//
// Applier::open() does every check that needs no writing: package integrity
// (header and payload SHA-256), format version, model, source version, the
// space the target needs, each source image's SHA-256 and the source
// firmware digest, and every image's patch program. Only then may step()
// write. step() produces one fixed-size chunk of the current target image
// and hands it to a TargetSink; each image's SHA-256 is checked before the
// sink is told the image is complete.
//
// Resumability: progress() is a tiny state (image index, offset, package
// identity) that a journal can store after each chunk. After a power cut,
// open() the same package again and resume(state): the applier replays the
// current image deterministically up to the saved offset without writing
// (decoding is cheap next to flash writes) and carries on from there. The
// source images must therefore stay readable until the update commits: a
// NAND applier writes the target to a separate area (A/B or FOTA area).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/error.hpp>
#include <vmodem/fota/package.hpp>

namespace vmodem::fota {

// Read access to the firmware being updated.
class SourceImages {
 public:
  virtual ~SourceImages() = default;
  // The full content of image `name`. The view must stay valid for the life
  // of the Applier. Return kFirmwareMismatch if there is no such image.
  virtual Result<ByteView> image(std::string_view name) = 0;
};

// Where the new firmware goes. Calls arrive in this order per image:
// begin_image, write (offsets strictly increasing, each chunk_size bytes
// except the image's last), end_image. An error from any call aborts the
// update (kAborted unless the sink says otherwise) and is returned by step().
class TargetSink {
 public:
  virtual ~TargetSink() = default;
  // Image `index` starts. `resume_offset` > 0 when resuming: the bytes below
  // it were written before the interruption and will not be written again.
  virtual Status begin_image(std::size_t index, const PackageImage& image,
                             std::uint64_t resume_offset) = 0;
  virtual Status write(std::uint64_t offset, ByteView chunk) = 0;
  // The image is complete and matched its target SHA-256. Images the update
  // removes (has_target == false) get begin_image + end_image, no writes.
  virtual Status end_image(std::size_t index, const PackageImage& image) = 0;
};

// The journalable part of the applier's state.
struct ApplyProgress {
  std::uint32_t image_index = 0;   // image in progress (== image count when done)
  std::uint64_t image_offset = 0;  // bytes of that image already handed to the sink
  Digest package_id{};             // header digest of the package being applied

  static constexpr std::size_t kSerializedSize = 60;
  // Fixed-size record: "VMFJ" | u16 version | u16 0 | u32 image | u64 offset |
  // 32 package id | u64 first 8 bytes of SHA-256 over the preceding bytes.
  std::vector<std::uint8_t> serialize() const;
  // kBadPackage if the record is torn or not a journal record.
  static Result<ApplyProgress> deserialize(ByteView record);
  friend bool operator==(const ApplyProgress&, const ApplyProgress&) = default;
};

struct ApplyOptions {
  // Bytes per TargetSink::write(); a NAND applier passes its page size.
  std::size_t chunk_size = 2048;
  // Space available for the target images (sum of target sizes); more -> kNoSpace.
  std::uint64_t max_target_bytes = kMaxImageBytes * 4;
  // If non-empty, the package's model must equal it (else kFirmwareMismatch).
  std::string expected_model;
  // If non-empty, the package's source version must equal it.
  std::string current_version;
  // If set, the package's source firmware digest must equal it: the whole
  // current firmware (firmware_digest()), images the package leaves alone
  // included. Model, version and this are what a module checks at boot.
  std::optional<Digest> current_firmware;
  // Called with 0..100 whenever the integer percentage changes.
  std::function<void(int percent)> on_progress;
};

class Applier {
 public:
  // Verifies `package` against the current firmware (see the file comment).
  // `package` and the views `sources` returns must outlive the Applier.
  static Result<std::unique_ptr<Applier>> open(ByteView package, SourceImages& sources,
                                               ApplyOptions options = {});
  ~Applier();
  Applier(const Applier&) = delete;
  Applier& operator=(const Applier&) = delete;

  const PackageHeader& header() const;

  // Continues from a saved state instead of the beginning. Must be called
  // before the first step(). kBadPackage if `state` belongs to another
  // package or points outside it.
  Status resume(const ApplyProgress& state);

  // Writes the next chunk (or finishes an image). Returns true once every
  // image is complete and verified; further calls keep returning true.
  Result<bool> step(TargetSink& sink);

  // step() until done.
  Status run(TargetSink& sink);

  // State after the last completed step(); store it to survive a power cut.
  const ApplyProgress& progress() const;
  int percent() const;

 private:
  struct State;
  explicit Applier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vmodem::fota
