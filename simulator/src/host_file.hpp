// Reading a file the user names (on the command line, in a campaign
// scenario), as hostile input: it may be a FIFO (a read would wait
// forever), a device (/dev/zero never ends), a directory, too large, or the
// module image itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/nand/storage.hpp>

namespace vmodem::sim {

// The whole content of regular file `path`, at most `max_bytes`. Refused
// with a message naming the path: not a regular file, larger than
// max_bytes, the file `refuse` identifies (e.g. the image being written),
// or unreadable.
tl::expected<std::vector<std::uint8_t>, std::string> read_host_file(
    const std::filesystem::path& path, std::uint64_t max_bytes,
    std::optional<nand::FileId> refuse = std::nullopt);

// The identity (device, inode) of the file at `path`; nullopt when there is
// none to stat.
std::optional<nand::FileId> file_id_of(const std::filesystem::path& path);

// Writes `bytes` to `path` as a user's output file: a new file is created;
// an existing one must be a regular file (it is truncated and rewritten in
// place, as cp does — never replaced by a rename) and not the file `refuse`
// identifies. Refused with a message naming the path; a short write (full
// disk) says so.
tl::expected<void, std::string> write_host_file(const std::filesystem::path& path,
                                                std::span<const std::uint8_t> bytes,
                                                std::optional<nand::FileId> refuse = std::nullopt);

}  // namespace vmodem::sim
