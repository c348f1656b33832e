// File I/O for image files that a host names: the paths and the files behind
// them are untrusted (a FIFO, a device node, a symlink, the running module's
// own image, a disk that fills up), so every helper here checks what it is
// handed before it reads or replaces anything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include <vmodem/nand/status.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::nand::image_io {

// A path a host gave us that holds a NUL byte cannot name the file the host
// meant (the kernel stops at the NUL): refused (invalid_argument).
Status check_path(const std::filesystem::path& path);

// Opens `path` for reading without ever blocking (O_NONBLOCK: a FIFO with no
// writer or a device does not hang the caller) and returns the descriptor
// only when it is a regular file; io_error/bad_image otherwise. *size gets
// the file's size.
Result<int> open_regular_for_read(const std::filesystem::path& path, std::uint64_t* size);

// Reserves every block of the first `size` bytes of the file, so a store
// through a shared mapping of it can never fault for lack of disk space
// (no_space, with how much is free, when the file system cannot hold it).
Status reserve_blocks(int fd, std::uint64_t size, const std::filesystem::path& path);

// Writes `bytes` as the file at `path`; all-zero (erased) 64 KiB chunks
// stay holes, so the copy of a mostly erased device is small.
//
// Safe against what a host can name: refuses a path with a NUL, anything at
// `path` that is not a regular file (symlink, FIFO, device, directory,
// socket), and the files `refuse` identifies (by device and inode, so a
// hard link to one is refused too). Writes a new file next to `path` (O_EXCL,
// unique name, mode 0600), fsyncs it, checks `path` again with lstat right
// before the rename and renames only over a regular file, or onto a name
// that is still free (RENAME_NOREPLACE where the file system has it). On any
// failure removes its temporary file and leaves `path` untouched; no_space
// when the disk fills.
Status write_file_replacing(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                            std::span<const FileId> refuse);

}  // namespace vmodem::nand::image_io
