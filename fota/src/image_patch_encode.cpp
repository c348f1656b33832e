// Generator side of image_patch.hpp: search a few matcher thresholds and
// projection layouts, keep the smallest.
#include <algorithm>
#include <optional>

#include "esp_image.hpp"
#include "image_patch.hpp"
#include "patch_streams.hpp"

namespace vmodem::fota::detail {
namespace {

CodecChoice lzma(std::uint32_t lc, std::uint32_t lp, std::uint32_t pb,
                 Codec codec = Codec::kLzma2) {
  CodecChoice c;
  c.codec = codec;
  c.lc = lc;
  c.lp = lp;
  c.pb = pb;
  return c;
}
CodecChoice zstd(Codec codec = Codec::kZstd) {
  CodecChoice c;
  c.codec = codec;
  return c;
}

// Settings that won on firmware (measured on the ESP8266 corpus: small lc
// everywhere; the control stream likes lc=1, diff/extra lc=0). The first
// entry of each list is the quick setting used while searching.
struct CodecPlan {
  std::vector<CodecChoice> control, diff, extra;
};

CodecPlan codec_plan(bool exhaustive) {
  constexpr Codec kWithOld = Codec::kLzma2WithOld;
  if (!exhaustive) {
    return {{lzma(1, 0, 0)}, {lzma(0, 0, 0)}, {lzma(0, 0, 0, kWithOld)}};
  }
  return {{lzma(1, 0, 0), lzma(0, 0, 0), lzma(3, 0, 0), zstd()},
          {lzma(0, 0, 0), lzma(1, 0, 0), lzma(1, 0, 1), lzma(0, 0, 2), zstd()},
          {lzma(0, 0, 0, kWithOld), lzma(1, 0, 0, kWithOld), lzma(3, 0, 0, kWithOld),
           lzma(0, 0, 2, kWithOld), zstd(Codec::kZstdWithOld), lzma(0, 0, 0)}};
}

void put_regions(Bytes& out, std::span<const AddressRegion> regions) {
  put_u8(out, static_cast<std::uint8_t>(regions.size()));
  for (const auto& r : regions) {
    put_u32(out, r.offset);
    put_u32(out, r.length);
    put_u32(out, r.address);
  }
}

// One way of building the patch: a matcher threshold and, optionally, the
// region layouts for projection.
struct Candidate {
  int min_gain = 8;
  const std::vector<ControlEntry>* program = nullptr;
  std::optional<std::pair<std::vector<AddressRegion>, std::vector<AddressRegion>>> layouts;
};

Result<EncodedPatch> encode_candidate(ByteView old, ByteView neu, const Candidate& candidate,
                                      const CodecPlan& plan) {
  Bytes projected;
  ByteView base = old;
  EncodedPatch patch;
  patch.breakdown.min_gain = candidate.min_gain;
  if (candidate.layouts) {
    patch.breakdown.algorithm = PatchAlgorithm::kBsdiffXtensa;
    projected = project_references(old, *candidate.program, candidate.layouts->first,
                                   candidate.layouts->second);
    base = projected;
    put_regions(patch.bytes, candidate.layouts->first);
    put_regions(patch.bytes, candidate.layouts->second);
  }
  const RawStreams raw = build_streams(base, neu, *candidate.program);
  auto control = encode_stream_best(raw.control, plan.control);
  auto diff = encode_stream_best(raw.diff, plan.diff);
  auto extra = encode_stream_best(raw.extra, plan.extra, base);
  if (!control) return tl::unexpected(control.error());
  if (!diff) return tl::unexpected(diff.error());
  if (!extra) return tl::unexpected(extra.error());
  auto& b = patch.breakdown;
  b.control_raw = raw.control.size();
  b.diff_raw = raw.diff.size();
  b.extra_raw = raw.extra.size();
  b.control_packed = control->size();
  b.diff_packed = diff->size();
  b.extra_packed = extra->size();
  put_bytes(patch.bytes, *control);
  put_bytes(patch.bytes, *diff);
  put_bytes(patch.bytes, *extra);
  return patch;
}

}  // namespace

Result<EncodedPatch> encode_image_patch(ByteView old, ByteView new_image,
                                        const PatchEncodeOptions& options) {
  std::vector<int> gains = options.min_gains;
  if (gains.empty()) gains.push_back(MatcherOptions{}.min_gain);
  std::vector<std::vector<ControlEntry>> programs;
  programs.reserve(gains.size());
  for (int gain : gains)
    programs.push_back(match_images(old, new_image, MatcherOptions{gain}));

  // Projection layouts: the same slot assumption for old and new.
  std::vector<std::pair<std::vector<AddressRegion>, std::vector<AddressRegion>>> layouts;
  if (options.try_projection) {
    const auto old_layouts = esp8266_layouts(old);
    const auto new_layouts = esp8266_layouts(new_image);
    for (std::size_t i = 0; i < std::min(old_layouts.size(), new_layouts.size()); ++i) {
      layouts.emplace_back(old_layouts[i], new_layouts[i]);
    }
  }

  std::vector<Candidate> candidates;
  for (std::size_t g = 0; g < gains.size(); ++g) {
    candidates.push_back({gains[g], &programs[g], std::nullopt});
    for (const auto& layout : layouts)
      candidates.push_back({gains[g], &programs[g], layout});
  }

  // Rank candidates with the quick codec plan, then spend the full codec
  // search only on the winner.
  const CodecPlan quick = codec_plan(false);
  std::optional<EncodedPatch> best;
  const Candidate* best_candidate = nullptr;
  for (const auto& candidate : candidates) {
    auto patch = encode_candidate(old, new_image, candidate, quick);
    if (!patch) return patch;
    if (!best || patch->bytes.size() < best->bytes.size()) {
      best = std::move(*patch);
      best_candidate = &candidate;
    }
  }
  if (options.exhaustive_codecs && best_candidate != nullptr) {
    return encode_candidate(old, new_image, *best_candidate, codec_plan(true));
  }
  return std::move(*best);
}

}  // namespace vmodem::fota::detail
