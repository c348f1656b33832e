#include "cli/image_clone.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vmodem::cli {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Called on several threads at once (clone_images): not strerror.
std::string errno_text(const std::string& what) {
  return what + ": " + std::generic_category().message(errno);
}

// Copies [offset, end) with copy_file_range (in the kernel, no buffer here).
bool copy_range(int in, int out, off_t offset, off_t end) {
  while (offset < end) {
    off_t in_off = offset, out_off = offset;
    const ssize_t n =
        ::copy_file_range(in, &in_off, out, &out_off, static_cast<std::size_t>(end - offset), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += n;
  }
  return true;
}

// The written extents of `in` copied to the same offsets of `out`, found
// with FIEMAP. Extents that are allocated but unwritten (vmodem reserves an
// image's blocks with fallocate: an erased region reads as zeros and is
// never written) are left as holes; SEEK_DATA would count them as data on
// some file systems and copy the whole image. False when FIEMAP is not
// supported or fails.
bool copy_written_extents(int in, int out, off_t size) {
  constexpr std::size_t kBatch = 256;
  std::vector<std::uint8_t> buffer(sizeof(fiemap) + kBatch * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  std::uint64_t start = 0;
  for (;;) {
    std::memset(buffer.data(), 0, buffer.size());
    map->fm_start = start;
    map->fm_length = static_cast<std::uint64_t>(size) - start;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = kBatch;
    if (::ioctl(in, FS_IOC_FIEMAP, map) != 0) return false;
    if (map->fm_mapped_extents == 0) return true;
    for (std::uint32_t i = 0; i < map->fm_mapped_extents; ++i) {
      const fiemap_extent& extent = map->fm_extents[i];
      const std::uint64_t end = std::min<std::uint64_t>(extent.fe_logical + extent.fe_length,
                                                        static_cast<std::uint64_t>(size));
      if ((extent.fe_flags & FIEMAP_EXTENT_UNWRITTEN) == 0 &&
          !copy_range(in, out, static_cast<off_t>(extent.fe_logical), static_cast<off_t>(end))) {
        return false;
      }
      start = end;
      if ((extent.fe_flags & FIEMAP_EXTENT_LAST) != 0) return true;
    }
  }
}

// The data regions of `in` copied to the same offsets of `out`; the rest
// stays a hole.
bool copy_data_regions(int in, int out, off_t size) {
  off_t offset = 0;
  while (offset < size) {
    const off_t data = ::lseek(in, offset, SEEK_DATA);
    if (data < 0) return errno == ENXIO;  // no data after offset
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) hole = size;
    if (!copy_range(in, out, data, hole)) return false;
    offset = hole;
  }
  return true;
}

}  // namespace

tl::expected<CloneKind, std::string> clone_image(const std::filesystem::path& from,
                                                 const std::filesystem::path& to) {
  const Fd in(::open(from.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (in.get() < 0) return tl::unexpected(errno_text("cannot open " + from.string()));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return tl::unexpected(from.string() + " is not a regular file");
  // O_EXCL: a file already there (a module's image) is never replaced.
  const Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0600));
  if (out.get() < 0) return tl::unexpected(errno_text("cannot create " + to.string()));
  if (::ioctl(out.get(), FICLONE, in.get()) == 0) return CloneKind::reflink;
  if (::ftruncate(out.get(), st.st_size) == 0 &&
      (copy_written_extents(in.get(), out.get(), st.st_size) ||
       copy_data_regions(in.get(), out.get(), st.st_size))) {
    return CloneKind::sparse;
  }
  const std::string why = errno_text("cannot copy " + from.string() + " to " + to.string());
  ::unlink(to.c_str());
  return tl::unexpected(why);
}

tl::expected<void, std::string> clone_images(const std::filesystem::path& from,
                                             const std::vector<std::filesystem::path>& targets,
                                             unsigned threads) {
  std::vector<std::optional<std::string>> failures(targets.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < targets.size(); i = next++) {
      if (auto cloned = clone_image(from, targets[i]); !cloned) failures[i] = cloned.error();
    }
  };
  {
    std::vector<std::jthread> pool;
    const unsigned helpers = std::min<std::size_t>(std::max(threads, 1U), targets.size());
    for (unsigned t = 1; t < helpers; ++t)
      pool.emplace_back(work);
    work();
  }
  for (auto& failure : failures) {
    if (failure) return tl::unexpected(std::move(*failure));
  }
  return {};
}

}  // namespace vmodem::cli
