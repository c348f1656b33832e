#include <algorithm>

#include <vmodem/fota/applier.hpp>
#include <vmodem/fota/bundle.hpp>

#include "byte_io.hpp"
#include "image_patch.hpp"

namespace vmodem::fota {

struct Applier::State {
  ByteView package;
  PackageHeader header;
  ApplyOptions options;
  std::vector<ByteView> sources;             // per image; empty when absent
  std::vector<detail::ParsedPatch> patches;  // per image; empty for removed images
  std::uint64_t total_target_bytes = 0;

  ApplyProgress progress;
  bool started = false;                           // step() has been called
  std::unique_ptr<detail::ImagePatcher> patcher;  // current image, once begun
  Sha256 hasher;
  std::vector<std::uint8_t> chunk;
  int last_percent = -1;

  std::uint64_t bytes_done() const {
    std::uint64_t done = progress.image_offset;
    for (std::uint32_t i = 0; i < progress.image_index && i < header.images.size(); ++i) {
      done += header.images[i].target_size;
    }
    return done;
  }
  int percent() const {
    if (progress.image_index >= header.images.size()) return 100;
    if (total_target_bytes == 0) return 0;
    return static_cast<int>(bytes_done() * 100 / total_target_bytes);
  }
  void report_progress() {
    const int now = percent();
    if (now != last_percent && options.on_progress) options.on_progress(now);
    last_percent = now;
  }
};

namespace {

Status check_identity(const PackageHeader& h, const ApplyOptions& options) {
  if (!options.expected_model.empty() && h.model != options.expected_model) {
    return fail(ErrorCode::kFirmwareMismatch,
                "package is for model '" + h.model + "', this is '" + options.expected_model + "'");
  }
  if (!options.current_version.empty() && h.source_version != options.current_version) {
    return fail(ErrorCode::kFirmwareMismatch, "package updates '" + h.source_version +
                                                  "', current firmware is '" +
                                                  options.current_version + "'");
  }
  return {};
}

// The header's firmware digests must agree with its own image entries.
Status check_firmware_digests(const PackageHeader& h) {
  std::vector<ImageIdentity> source, target;
  for (const auto& image : h.images) {
    if (image.has_source) source.push_back({image.name, image.source_size, image.source_digest});
    if (image.has_target) target.push_back({image.name, image.target_size, image.target_digest});
  }
  if (firmware_digest(source) != h.source_firmware_digest ||
      firmware_digest(target) != h.target_firmware_digest) {
    return fail(ErrorCode::kBadPackage, "firmware digests disagree with the image list");
  }
  return {};
}

Result<ByteView> verified_source(SourceImages& sources, const PackageImage& image) {
  auto data = sources.image(image.name);
  if (!data) return data;
  if (data->size() != image.source_size || sha256(*data) != image.source_digest) {
    return fail(ErrorCode::kFirmwareMismatch,
                "image '" + image.name + "' is not the firmware this package updates");
  }
  return data;
}

}  // namespace

Result<std::unique_ptr<Applier>> Applier::open(ByteView package, SourceImages& sources,
                                               ApplyOptions options) {
  if (options.chunk_size == 0 || options.chunk_size > (16u << 20)) {
    return fail(ErrorCode::kInvalidInput, "chunk size must be 1 byte .. 16 MiB");
  }
  auto header = parse_package(package);
  if (!header) return tl::unexpected(header.error());
  if (auto st = check_identity(*header, options); !st) return tl::unexpected(st.error());
  if (auto st = check_firmware_digests(*header); !st) return tl::unexpected(st.error());

  auto state = std::make_unique<State>();
  for (const auto& image : header->images)
    state->total_target_bytes += image.target_size;
  if (state->total_target_bytes > options.max_target_bytes) {
    return fail(ErrorCode::kNoSpace, "the new firmware needs " +
                                         std::to_string(state->total_target_bytes) + " bytes, " +
                                         std::to_string(options.max_target_bytes) + " available");
  }
  // All sources first: a mismatch must be reported before any patch work.
  for (const auto& image : header->images) {
    ByteView source;
    if (image.has_source) {
      auto data = verified_source(sources, image);
      if (!data) return tl::unexpected(data.error());
      source = *data;
    }
    state->sources.push_back(source);
  }
  // Every image it patches matched; the firmware may still hold others.
  if (options.current_firmware && *options.current_firmware != header->source_firmware_digest) {
    return fail(ErrorCode::kFirmwareMismatch,
                "the package's source firmware has other images than the current one");
  }
  for (const auto& image : header->images) {
    detail::ParsedPatch parsed;
    if (image.has_target) {
      auto p = detail::parse_image_patch(static_cast<std::uint8_t>(image.algorithm),
                                         patch_bytes(package, *header, image), image.source_size,
                                         image.target_size);
      if (!p) {
        return fail(p.error().code, "image '" + image.name + "': " + p.error().message);
      }
      parsed = std::move(*p);
    }
    state->patches.push_back(std::move(parsed));
  }
  state->package = package;
  state->progress.package_id = header->package_id;
  state->header = std::move(*header);
  state->options = std::move(options);
  state->chunk.resize(state->options.chunk_size);
  return std::unique_ptr<Applier>(new Applier(std::move(state)));
}

Applier::Applier(std::unique_ptr<State> state) : state_(std::move(state)) {}
Applier::~Applier() = default;

const PackageHeader& Applier::header() const {
  return state_->header;
}
const ApplyProgress& Applier::progress() const {
  return state_->progress;
}
int Applier::percent() const {
  return state_->percent();
}

Status Applier::resume(const ApplyProgress& state) {
  auto& s = *state_;
  if (s.started) return fail(ErrorCode::kInvalidInput, "resume() after step()");
  if (state.package_id != s.progress.package_id) {
    return fail(ErrorCode::kBadPackage, "saved progress belongs to another package");
  }
  const auto& images = s.header.images;
  if (state.image_index > images.size() ||
      (state.image_index == images.size() && state.image_offset != 0) ||
      (state.image_index < images.size() &&
       state.image_offset > images[state.image_index].target_size)) {
    return fail(ErrorCode::kBadPackage, "saved progress points outside the package");
  }
  s.progress = state;
  return {};
}

Result<bool> Applier::step(TargetSink& sink) {
  auto& s = *state_;
  s.started = true;
  auto& p = s.progress;
  if (p.image_index >= s.header.images.size()) return true;
  const PackageImage& image = s.header.images[p.image_index];

  if (!s.patcher && image.has_target) {
    auto patcher = detail::ImagePatcher::start(s.patches[p.image_index], s.sources[p.image_index]);
    if (!patcher) return tl::unexpected(patcher.error());
    s.patcher = std::move(*patcher);
    s.hasher.reset();
    // Replay what was written before an interruption: it feeds the digest.
    for (std::uint64_t replayed = 0; replayed < p.image_offset;) {
      const auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(s.chunk.size(), p.image_offset - replayed));
      const auto piece = std::span(s.chunk).first(n);
      if (auto st = s.patcher->produce(piece); !st) return tl::unexpected(st.error());
      s.hasher.update(piece);
      replayed += n;
    }
    if (auto st = sink.begin_image(p.image_index, image, p.image_offset); !st) {
      s.patcher.reset();
      return tl::unexpected(st.error());
    }
  } else if (!image.has_target) {
    if (auto st = sink.begin_image(p.image_index, image, 0); !st) return tl::unexpected(st.error());
  }

  if (p.image_offset < image.target_size) {
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(s.chunk.size(), image.target_size - p.image_offset));
    const auto piece = std::span(s.chunk).first(n);
    if (auto st = s.patcher->produce(piece); !st) {
      s.patcher.reset();
      return fail(ErrorCode::kUnpackFailed, "image '" + image.name + "': " + st.error().message);
    }
    if (auto st = sink.write(p.image_offset, piece); !st) {
      s.patcher.reset();
      return tl::unexpected(st.error());
    }
    s.hasher.update(piece);
    p.image_offset += n;
  }

  if (p.image_offset == image.target_size) {
    if (image.has_target && s.hasher.peek() != image.target_digest) {
      s.patcher.reset();
      return fail(ErrorCode::kUnpackFailed,
                  "image '" + image.name + "' does not match its target digest");
    }
    if (auto st = sink.end_image(p.image_index, image); !st) return tl::unexpected(st.error());
    s.patcher.reset();
    ++p.image_index;
    p.image_offset = 0;
  }
  s.report_progress();
  return p.image_index >= s.header.images.size();
}

Status Applier::run(TargetSink& sink) {
  for (;;) {
    auto done = step(sink);
    if (!done) return tl::unexpected(done.error());
    if (*done) return {};
  }
}

std::vector<std::uint8_t> ApplyProgress::serialize() const {
  detail::Bytes out{'V', 'M', 'F', 'J'};
  detail::put_u16(out, 1);
  detail::put_u16(out, 0);
  detail::put_u32(out, image_index);
  detail::put_u64(out, image_offset);
  detail::put_bytes(out, package_id);
  const Digest check = sha256(out);
  out.insert(out.end(), check.begin(), check.begin() + 8);
  return out;
}

Result<ApplyProgress> ApplyProgress::deserialize(ByteView record) {
  const auto bad = [](const char* why) { return fail(ErrorCode::kBadPackage, why); };
  if (record.size() != kSerializedSize) return bad("progress record has the wrong size");
  const Digest check = sha256(record.first(kSerializedSize - 8));
  if (!std::equal(check.begin(), check.begin() + 8, record.end() - 8)) {
    return bad("progress record checksum mismatch");
  }
  detail::Reader r(record);
  if (r.u32() != 0x4A46'4D56u) return bad("not a progress record");  // "VMFJ"
  if (r.u16() != 1 || r.u16() != 0) return bad("unknown progress record version");
  ApplyProgress p;
  p.image_index = r.u32();
  p.image_offset = r.u64();
  const auto id = r.bytes(p.package_id.size());
  std::copy(id.begin(), id.end(), p.package_id.begin());
  return p;
}

}  // namespace vmodem::fota
