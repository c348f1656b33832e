#include "matcher.hpp"

#include <algorithm>

#include <divsufsort.h>

namespace vmodem::fota::detail {
namespace {

using ByteSpan = std::span<const std::uint8_t>;

std::size_t common_prefix(ByteSpan a, ByteSpan b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i])
    ++i;
  return i;
}

// Scan state shared by the steps of match_images(); names follow the roles
// in bsdiff (scan = position in new, pos = match position in old).
struct Scan {
  ByteSpan old;
  ByteSpan neu;
  std::size_t last_scan = 0;
  std::size_t last_pos = 0;
  std::int64_t last_offset = 0;

  bool old_matches_at(std::size_t new_index, std::int64_t offset) const {
    const std::int64_t o = static_cast<std::int64_t>(new_index) + offset;
    return o >= 0 && static_cast<std::size_t>(o) < old.size() && old[o] == neu[new_index];
  }
};

// Length of the forward extension of the previous match: the prefix of
// [last_scan, scan) where at least half the bytes agree with old.
std::size_t forward_extension(const Scan& s, std::size_t scan) {
  std::int64_t matched = 0, best_score = 0;
  std::size_t best_len = 0;
  for (std::size_t i = 0; s.last_scan + i < scan && s.last_pos + i < s.old.size();) {
    if (s.old[s.last_pos + i] == s.neu[s.last_scan + i]) ++matched;
    ++i;
    if (matched * 2 - static_cast<std::int64_t>(i) >
        best_score * 2 - static_cast<std::int64_t>(best_len)) {
      best_score = matched;
      best_len = i;
    }
  }
  return best_len;
}

// Length of the backward extension of the new match at (scan, pos).
std::size_t backward_extension(const Scan& s, std::size_t scan, std::size_t pos) {
  std::int64_t matched = 0, best_score = 0;
  std::size_t best_len = 0;
  for (std::size_t i = 1; scan >= s.last_scan + i && pos >= i; ++i) {
    if (s.old[pos - i] == s.neu[scan - i]) ++matched;
    if (matched * 2 - static_cast<std::int64_t>(i) >
        best_score * 2 - static_cast<std::int64_t>(best_len)) {
      best_score = matched;
      best_len = i;
    }
  }
  return best_len;
}

}  // namespace

SuffixIndex::SuffixIndex(ByteSpan old) : old_(old), sa_(old.size() + 1) {
  if (!old.empty()) divsufsort(old.data(), sa_.data(), static_cast<saidx_t>(old.size()));
  sa_.resize(old.size());
}

std::size_t SuffixIndex::longest_match(ByteSpan needle, std::size_t& pos) const {
  pos = 0;
  if (sa_.empty() || needle.empty()) return 0;
  // Binary search for the insertion point of `needle`; the longest match is
  // with one of the two neighbours.
  std::size_t lo = 0, hi = sa_.size();
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto suffix = old_.subspan(static_cast<std::size_t>(sa_[mid]));
    const std::size_t n = std::min(suffix.size(), needle.size());
    if (std::lexicographical_compare(suffix.begin(), suffix.begin() + n, needle.begin(),
                                     needle.begin() + n)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  std::size_t best = 0;
  for (std::size_t idx : {lo, hi}) {
    if (idx >= sa_.size()) continue;
    const auto p = static_cast<std::size_t>(sa_[idx]);
    const std::size_t len = common_prefix(old_.subspan(p), needle);
    if (len > best || (len == best && best == 0)) {
      best = len;
      pos = p;
    }
  }
  return best;
}

std::vector<ControlEntry> match_images(ByteSpan old, ByteSpan new_image,
                                       const MatcherOptions& options) {
  std::vector<ControlEntry> program;
  const SuffixIndex index(old);
  Scan s{old, new_image};
  std::size_t scan = 0, len = 0, pos = 0;
  while (scan < new_image.size()) {
    std::int64_t old_score = 0;
    std::size_t scored_to = scan += len;
    for (; scan < new_image.size(); ++scan) {
      len = index.longest_match(new_image.subspan(scan), pos);
      for (; scored_to < scan + len; ++scored_to) {
        if (s.old_matches_at(scored_to, s.last_offset)) ++old_score;
      }
      const auto ilen = static_cast<std::int64_t>(len);
      if ((ilen == old_score && len != 0) || ilen > old_score + options.min_gain) break;
      if (s.old_matches_at(scan, s.last_offset)) --old_score;
    }
    if (static_cast<std::int64_t>(len) == old_score && scan != new_image.size()) continue;

    std::size_t len_f = forward_extension(s, scan);
    std::size_t len_b = scan < new_image.size() ? backward_extension(s, scan, pos) : 0;
    if (s.last_scan + len_f > scan - len_b) {
      // The two extensions overlap: split the overlap where it scores best.
      const std::size_t overlap = (s.last_scan + len_f) - (scan - len_b);
      std::int64_t score = 0, best = 0;
      std::size_t split = 0;
      for (std::size_t i = 0; i < overlap; ++i) {
        if (new_image[s.last_scan + len_f - overlap + i] == old[s.last_pos + len_f - overlap + i])
          ++score;
        if (new_image[scan - len_b + i] == old[pos - len_b + i]) --score;
        if (score > best) {
          best = score;
          split = i + 1;
        }
      }
      len_f += split - overlap;
      len_b -= split;
    }
    ControlEntry entry;
    entry.diff_length = len_f;
    entry.extra_length = (scan - len_b) - (s.last_scan + len_f);
    entry.old_seek =
        static_cast<std::int64_t>(pos - len_b) - static_cast<std::int64_t>(s.last_pos + len_f);
    program.push_back(entry);
    s.last_scan = scan - len_b;
    s.last_pos = pos - len_b;
    s.last_offset = static_cast<std::int64_t>(pos) - static_cast<std::int64_t>(scan);
  }
  return program;
}

}  // namespace vmodem::fota::detail
