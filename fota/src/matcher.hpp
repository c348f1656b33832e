// The bsdiff-class matcher: finds, for the new image, long matches in the old
// image through a suffix array (libdivsufsort), then extends each match
// approximately forwards and backwards, the way Colin Percival's bsdiff does,
// so that a region of code that moved *and* had a few addresses changed
// becomes one "diff" run of mostly-zero bytes instead of many short matches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vmodem::fota::detail {

// One step of the patch program: add `diff_length` bytes of old (starting at
// the current old position) plus the diff stream, then copy `extra_length`
// literal bytes, then move the old position by `old_seek`.
struct ControlEntry {
  std::uint64_t diff_length = 0;
  std::uint64_t extra_length = 0;
  std::int64_t old_seek = 0;
};

struct MatcherOptions {
  // A new exact match is taken when it beats the current alignment by more
  // than this many bytes (bsdiff uses 8).
  int min_gain = 8;
};

// Suffix array of `old`, built once and reusable for several new images.
class SuffixIndex {
 public:
  explicit SuffixIndex(std::span<const std::uint8_t> old);
  // Longest prefix of `needle` found in old; returns its length and sets `pos`.
  std::size_t longest_match(std::span<const std::uint8_t> needle, std::size_t& pos) const;

 private:
  std::span<const std::uint8_t> old_;
  std::vector<std::int32_t> sa_;
};

// Computes the control program turning `old` into `new_image`.
std::vector<ControlEntry> match_images(std::span<const std::uint8_t> old,
                                       std::span<const std::uint8_t> new_image,
                                       const MatcherOptions& options);

}  // namespace vmodem::fota::detail
