// Copies a NAND image for `vmodem run --count`: each module after the first
// starts from a copy of a manufactured template instead of being
// manufactured itself.
#pragma once

#include <filesystem>
#include <string>

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

}  // namespace vmodem::cli
