// Copies a NAND image for `vmodem run --count`: each module after the first
// starts from a copy of a manufactured template instead of being
// manufactured itself.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace vmodem::cli {

enum class CloneKind { reflink, sparse };

// Creates `to` (which must not exist: never replaces a file) as a copy of
// `from`: a reflink where the file system shares blocks (btrfs, XFS), else a
// copy of the data regions only, holes left as holes (an image is mostly
// erased, which reads as zeros on disk). On failure `to` is removed and the
// reason returned.
tl::expected<CloneKind, std::string> clone_image(const std::filesystem::path& from,
                                                 const std::filesystem::path& to);

// clone_image of `from` to each of `targets`, on up to `threads` threads
// (a sparse copy is the kernel copying the written extents: it scales with
// the cores). All are attempted; the first failure in `targets` order is
// returned, the others' copies are kept.
tl::expected<void, std::string> clone_images(const std::filesystem::path& from,
                                             const std::vector<std::filesystem::path>& targets,
                                             unsigned threads);

}  // namespace vmodem::cli
