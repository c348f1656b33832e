// Generator side of image_patch.hpp: search a few matcher thresholds and
// projection layouts, keep the smallest.
#include <algorithm>
#include <optional>

#include "image_patch.hpp"
#include "parallel.hpp"
#include "patch_streams.hpp"
#include "projection_layouts.hpp"

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
// everywhere; the control stream likes lc=1, the extra stream lc=0 with the
// old image as dictionary). The diff stream is zero wherever the match was
// right: the zero-run codec packs it ~10% smaller than LZMA in 1% of the time.
struct CodecPlan {
  std::vector<CodecChoice> control, diff, extra;
  bool dense_diff_fallback = false;  // see encode_diff()
  bool short_stored = false;         // stored streams as kStoredShort
};

// The plan with stored streams (and the zero-run codec's stored inner
// frames) in the short form, for format-2 packages.
CodecPlan with_short_stored(CodecPlan plan, bool short_stored) {
  plan.short_stored = short_stored;
  for (auto* choices : {&plan.control, &plan.diff, &plan.extra}) {
    for (auto& choice : *choices)
      choice.short_stored = short_stored;
  }
  return plan;
}

CodecChoice sparse() {
  CodecChoice c;
  c.codec = Codec::kSparse;
  return c;
}

// The plan a package is encoded with. The extra stream's alternatives never
// won on the corpus by more than a few bytes, and each costs a full LZMA pass
// over the old image, so only the control and diff streams get a search.
CodecPlan codec_plan(bool exhaustive) {
  constexpr Codec kWithOld = Codec::kLzma2WithOld;
  if (!exhaustive) return {{lzma(1, 0, 0)}, {sparse()}, {lzma(0, 0, 0, kWithOld)}};
  return {{lzma(1, 0, 0), lzma(0, 0, 0), lzma(3, 0, 0), zstd()},
          {sparse()},
          {lzma(0, 0, 0, kWithOld)},
          true};
}

// The diff stream with the plan's choices; with dense_diff_fallback also with
// plain LZMA when the zero-run codec packed it worse than 1:16 — the diff was
// not mostly zeros (dense changes), the case that codec is not made for. A
// shorter nice_len costs a tenth of 273's time on what zero runs there are.
Result<Bytes> encode_diff(ByteView diff, const CodecPlan& plan) {
  auto best = encode_stream_best(diff, plan.diff, {}, plan.short_stored);
  if (!best || !plan.dense_diff_fallback || best->size() * 16 <= diff.size()) return best;
  CodecChoice dense = lzma(0, 0, 0);
  dense.nice_len = 64;
  auto plain = encode_stream(diff, dense);
  if (!plain) return plain;
  return plain->size() < best->size() ? std::move(*plain) : std::move(*best);
}

// The plan candidates are ranked with: the extra stream is stored, because
// its raw bytes depend only on the matcher threshold (not on projection), so
// storing it keeps the order among one threshold's candidates and skips the
// costliest pass.
CodecPlan ranking_plan() {
  return {{lzma(1, 0, 0)}, {sparse()}, {}};
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
  const ProjectionLayout* layout = nullptr;  // nullptr: plain bsdiff
};

Result<EncodedPatch> encode_candidate(ByteView old, ByteView neu, const Candidate& candidate,
                                      const CodecPlan& plan) {
  Bytes projected;
  ByteView base = old;
  EncodedPatch patch;
  patch.breakdown.min_gain = candidate.min_gain;
  if (const ProjectionLayout* layout = candidate.layout) {
    patch.breakdown.algorithm = layout->algorithm;
    projected = project_references(*projection_isa(layout->algorithm), old, *candidate.program,
                                   layout->old_regions, layout->new_regions);
    base = projected;
    put_regions(patch.bytes, layout->old_regions);
    put_regions(patch.bytes, layout->new_regions);
  }
  const RawStreams raw = build_streams(base, neu, *candidate.program);
  auto control = encode_stream_best(raw.control, plan.control, {}, plan.short_stored);
  auto diff = encode_diff(raw.diff, plan);
  auto extra = encode_stream_best(raw.extra, plan.extra, base, plan.short_stored);
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
  std::vector<std::vector<ControlEntry>> programs(gains.size());
  parallel_for(gains.size(), [&](std::size_t g) {
    programs[g] = match_images(old, new_image, MatcherOptions{gains[g]});
  });

  const std::vector<ProjectionLayout> layouts =
      projection_layouts(old, new_image, options.architecture, options.load_address);

  std::vector<Candidate> candidates;
  for (std::size_t g = 0; g < gains.size(); ++g) {
    candidates.push_back({gains[g], &programs[g], nullptr});
    for (const auto& layout : layouts)
      candidates.push_back({gains[g], &programs[g], &layout});
  }

  // Rank every candidate cheaply, keep the best of each matcher threshold,
  // encode those in full and keep the smallest — both steps on every core.
  std::vector<Result<EncodedPatch>> ranked(candidates.size(), EncodedPatch{});
  const CodecPlan ranking = with_short_stored(ranking_plan(), options.short_stored_frames);
  parallel_for(candidates.size(), [&](std::size_t i) {
    ranked[i] = encode_candidate(old, new_image, candidates[i], ranking);
  });
  std::vector<std::size_t> finalists;
  for (const auto& program : programs) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (!ranked[i]) return tl::unexpected(ranked[i].error());
      if (candidates[i].program != &program) continue;
      if (!best || ranked[i]->bytes.size() < ranked[*best]->bytes.size()) best = i;
    }
    if (best) finalists.push_back(*best);
  }
  const CodecPlan plan =
      with_short_stored(codec_plan(options.exhaustive_codecs), options.short_stored_frames);
  std::vector<Result<EncodedPatch>> encoded(finalists.size(), EncodedPatch{});
  parallel_for(finalists.size(), [&](std::size_t f) {
    encoded[f] = encode_candidate(old, new_image, candidates[finalists[f]], plan);
  });
  std::size_t best = 0;
  for (std::size_t f = 0; f < encoded.size(); ++f) {
    if (!encoded[f]) return encoded[f];
    if (encoded[f]->bytes.size() < encoded[best]->bytes.size()) best = f;
  }
  return std::move(encoded[best]);
}

}  // namespace vmodem::fota::detail
