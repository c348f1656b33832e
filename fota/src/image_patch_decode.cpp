// Applier side of image_patch.hpp: parse, validate, stream.
#include <algorithm>

#include "image_patch.hpp"
#include "projection_layouts.hpp"

namespace vmodem::fota::detail {
namespace {

Result<std::vector<AddressRegion>> read_regions(Reader& r, std::uint64_t image_size) {
  const std::uint8_t count = r.u8();
  if (!r.ok() || count > kMaxRegions) return fail(ErrorCode::kBadPackage, "bad region table");
  std::vector<AddressRegion> regions(count);
  for (auto& region : regions) {
    region.offset = r.u32();
    region.length = r.u32();
    region.address = r.u32();
  }
  if (!r.ok() || !regions_fit(regions, image_size)) {
    return fail(ErrorCode::kBadPackage, "region table outside the image");
  }
  return regions;
}

// Decodes the whole control stream and checks that the program stays inside
// old, produces exactly new_size bytes and consumes the diff and extra
// streams exactly.
Result<std::vector<ControlEntry>> read_program(const StreamFrame& control, const StreamFrame& diff,
                                               const StreamFrame& extra, std::uint64_t old_size,
                                               std::uint64_t new_size) {
  auto decoder = make_decoder(control);
  if (!decoder) return tl::unexpected(decoder.error());
  Bytes raw(control.raw_size);
  if (auto st = (*decoder)->read(raw); !st) return tl::unexpected(st.error());

  std::vector<ControlEntry> program;
  Reader r(raw);
  std::uint64_t produced = 0, diff_total = 0, extra_total = 0;
  std::int64_t old_pos = 0;
  const auto bad = [](const char* why) { return fail(ErrorCode::kBadPackage, why); };
  while (r.remaining() > 0) {
    const auto diff_length = r.varint();
    const auto extra_length = r.varint();
    const auto seek = r.varint();
    if (!diff_length || !extra_length || !seek) return bad("truncated control stream");
    ControlEntry e{*diff_length, *extra_length, unzigzag(*seek)};
    if (e.diff_length > new_size || e.extra_length > new_size - e.diff_length ||
        produced > new_size - e.diff_length - e.extra_length) {
      return bad("control program overruns the target");
    }
    if (e.diff_length > 0 && (old_pos < 0 || static_cast<std::uint64_t>(old_pos) > old_size ||
                              e.diff_length > old_size - static_cast<std::uint64_t>(old_pos))) {
      return bad("control program reads outside the source");
    }
    if (e.old_seek > static_cast<std::int64_t>(kMaxStreamBytes) ||
        e.old_seek < -static_cast<std::int64_t>(kMaxStreamBytes)) {
      return bad("control program seeks absurdly");
    }
    produced += e.diff_length + e.extra_length;
    diff_total += e.diff_length;
    extra_total += e.extra_length;
    old_pos += static_cast<std::int64_t>(e.diff_length) + e.old_seek;
    if (old_pos < -static_cast<std::int64_t>(kMaxStreamBytes) ||
        old_pos > static_cast<std::int64_t>(kMaxStreamBytes)) {
      return bad("control program seeks absurdly");
    }
    program.push_back(e);
  }
  if (produced != new_size) return bad("control program does not produce the target size");
  if (diff_total != diff.raw_size || extra_total != extra.raw_size) {
    return bad("control program disagrees with stream sizes");
  }
  return program;
}

}  // namespace

Result<ParsedPatch> parse_image_patch(std::uint8_t algorithm, ByteView patch,
                                      std::uint64_t old_size, std::uint64_t new_size) {
  ParsedPatch parsed;
  if (algorithm == static_cast<std::uint8_t>(PatchAlgorithm::kNone) ||
      algorithm > static_cast<std::uint8_t>(kLastPatchAlgorithm)) {
    return fail(ErrorCode::kUnsupported, "unknown patch algorithm " + std::to_string(algorithm));
  }
  parsed.algorithm = static_cast<PatchAlgorithm>(algorithm);
  Reader r(patch);
  if (projection_isa(parsed.algorithm)) {
    auto old_regions = read_regions(r, old_size);
    if (!old_regions) return tl::unexpected(old_regions.error());
    auto new_regions = read_regions(r, new_size);
    if (!new_regions) return tl::unexpected(new_regions.error());
    parsed.old_regions = std::move(*old_regions);
    parsed.new_regions = std::move(*new_regions);
  }
  auto control = read_frame(r);
  if (!control) return tl::unexpected(control.error());
  auto diff = read_frame(r);
  if (!diff) return tl::unexpected(diff.error());
  auto extra = read_frame(r);
  if (!extra) return tl::unexpected(extra.error());
  if (r.remaining() != 0) return fail(ErrorCode::kBadPackage, "trailing bytes after patch");
  if (uses_dictionary(control->codec) || uses_dictionary(diff->codec)) {
    return fail(ErrorCode::kBadPackage, "only the extra stream may use a dictionary");
  }
  auto program = read_program(*control, *diff, *extra, old_size, new_size);
  if (!program) return tl::unexpected(program.error());
  parsed.diff = *diff;
  parsed.extra = *extra;
  parsed.program = std::move(*program);
  return parsed;
}

Result<std::unique_ptr<ImagePatcher>> ImagePatcher::start(const ParsedPatch& parsed, ByteView old) {
  std::unique_ptr<ImagePatcher> patcher(new ImagePatcher(parsed, old));
  if (const auto isa = projection_isa(parsed.algorithm)) {
    patcher->projected_ =
        project_references(*isa, old, parsed.program, parsed.old_regions, parsed.new_regions);
    patcher->old_ = patcher->projected_;
  }
  auto diff = make_decoder(parsed.diff);
  if (!diff) return tl::unexpected(diff.error());
  auto extra = make_decoder(parsed.extra, patcher->old_);
  if (!extra) return tl::unexpected(extra.error());
  patcher->diff_ = std::move(*diff);
  patcher->extra_ = std::move(*extra);
  return patcher;
}

Status ImagePatcher::produce(std::span<std::uint8_t> out) {
  const auto& program = parsed_.program;
  const std::size_t requested = out.size();
  while (!out.empty()) {
    if (entry_ >= program.size()) return fail(ErrorCode::kUnpackFailed, "patch ended early");
    const ControlEntry& e = program[entry_];
    if (in_entry_ < e.diff_length) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), e.diff_length - in_entry_));
      auto chunk = out.first(n);
      if (auto st = diff_->read(chunk); !st) return st;
      const auto base = static_cast<std::size_t>(old_pos_) + in_entry_;
      for (std::size_t i = 0; i < n; ++i)
        chunk[i] = static_cast<std::uint8_t>(chunk[i] + old_[base + i]);
      in_entry_ += n;
      out = out.subspan(n);
    } else if (in_entry_ < e.diff_length + e.extra_length) {
      const auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(out.size(), e.diff_length + e.extra_length - in_entry_));
      if (auto st = extra_->read(out.first(n)); !st) return st;
      in_entry_ += n;
      out = out.subspan(n);
    }
    if (in_entry_ == e.diff_length + e.extra_length) {
      old_pos_ += static_cast<std::int64_t>(e.diff_length) + e.old_seek;
      ++entry_;
      in_entry_ = 0;
    }
  }
  produced_ += requested;
  return {};
}

}  // namespace vmodem::fota::detail
