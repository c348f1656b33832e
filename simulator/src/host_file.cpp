#include "host_file.hpp"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vmodem::sim {

tl::expected<std::vector<std::uint8_t>, std::string> read_host_file(
    const std::filesystem::path& path, std::uint64_t max_bytes,
    std::optional<nand::FileId> refuse) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a FIFO with no writer must not hang; fstat then
  // tells what it is.
  const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return tl::unexpected("cannot open " + name + ": " + std::generic_category().message(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return tl::unexpected("cannot stat " + name + ": " + std::generic_category().message(errno));
  if (!S_ISREG(st.st_mode)) return tl::unexpected(name + " is not a regular file");
  if (refuse && refuse->device == st.st_dev && refuse->inode == st.st_ino)
    return tl::unexpected(name + " is the module image itself");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return tl::unexpected(name + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                          std::to_string(max_bytes) + " it can be");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return tl::unexpected("cannot read " + name + ": " + std::generic_category().message(errno));
    if (got == 0) return tl::unexpected(name + " shrank while it was read");
    done += static_cast<std::size_t>(got);
  }
  return bytes;
}

std::optional<nand::FileId> file_id_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return nand::FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

tl::expected<void, std::string> write_host_file(const std::filesystem::path& path,
                                                std::span<const std::uint8_t> bytes,
                                                std::optional<nand::FileId> refuse) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno == EEXIST) {
    // O_NONBLOCK: a FIFO without a reader must not hang the open.
    fd = ::open(name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
      ::close(fd);
      return tl::unexpected(name + " exists and is not a regular file");
    }
    if (fd >= 0 && refuse && refuse->device == st.st_dev && refuse->inode == st.st_ino) {
      ::close(fd);
      return tl::unexpected(name + " is the module image itself");
    }
    if (fd >= 0 && ::ftruncate(fd, 0) != 0) {
      const int error = errno;
      ::close(fd);
      return tl::unexpected("cannot truncate " + name + ": " +
                            std::generic_category().message(error));
    }
  }
  if (fd < 0)
    return tl::unexpected("cannot create " + name + ": " + std::generic_category().message(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      const int error = errno;
      ::close(fd);
      return tl::unexpected("cannot write " + name + ": " + std::generic_category().message(error));
    }
    done += static_cast<std::size_t>(put);
  }
  if (::close(fd) != 0)
    return tl::unexpected("cannot write " + name + ": " + std::generic_category().message(errno));
  return {};
}

}  // namespace vmodem::sim
