#pragma once

// The OS side of a PTY port: an openpty pair in raw mode and the stable
// symlink that names it.

#include <filesystem>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/at/error.hpp>

namespace vmodem::at::detail {

// An open PTY. The master goes to Asio; the slave fd stays open here for the
// port's whole life, so the host closing and reopening its end never makes
// the master read EIO, and the raw termios set here persist.
class PtyPair {
 public:
  static tl::expected<PtyPair, Error> open_raw();

  PtyPair(PtyPair&& other) noexcept;
  PtyPair& operator=(PtyPair&& other) noexcept;
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;
  ~PtyPair();

  // Hands the master fd over (the caller closes it). Returns -1 if taken.
  int release_master() noexcept;
  const std::string& slave_path() const noexcept { return slave_path_; }

 private:
  PtyPair(int master, int slave, std::string path);
  void close_all() noexcept;

  int master_ = -1;
  int slave_ = -1;
  std::string slave_path_;
};

// Points `link` at `target` atomically (a temporary link renamed over it), so
// a host polling the path never sees it missing during a move.
tl::expected<void, Error> point_symlink(const std::filesystem::path& link,
                                        const std::filesystem::path& target);

// Removes `link` if it is a symlink; anything else is left alone.
void remove_symlink(const std::filesystem::path& link) noexcept;

}  // namespace vmodem::at::detail
