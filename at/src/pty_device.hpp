#pragma once

// The OS side of a PTY port: an openpty pair in raw mode and the stable
// symlink that names it.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/at/error.hpp>

namespace vmodem::at::detail {

// An open PTY. The master goes to Asio. The slave is closed as soon as raw
// mode is set (a pty's termios persist while its master is open), so the
// master tells whether a host has the port open: POLLHUP while nobody has.
// (An inotify watch on the slave reports each open and close of it, so the
// port learns of a host arriving without polling: see open_watch.hpp.)
class PtyPair {
 public:
  static tl::expected<PtyPair, Error> open_raw();

  PtyPair(PtyPair&& other) noexcept;
  PtyPair& operator=(PtyPair&& other) noexcept;
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;
  ~PtyPair();

  // Hand the fds over (the caller closes them). -1 if already taken.
  int release_master() noexcept;
  const std::string& slave_path() const noexcept { return slave_path_; }

 private:
  PtyPair(int master, std::string path);
  void close_all() noexcept;

  int master_ = -1;
  std::string slave_path_;
};

// True while any process has the slave of `master` open.
bool has_opener(int master) noexcept;

// Discards what the master wrote that no opener of the slave has read yet:
// the answers meant for a host that has closed the port, which the next
// opener must not get. Opens the slave for a moment (an open and a close
// the watch reports). Errors: kSystem.
tl::expected<void, Error> discard_unread(int master, const std::string& slave_path);

// Points `link` at `target` atomically (a temporary link renamed over it), so
// a host polling the path never sees it missing during a move.
tl::expected<void, Error> point_symlink(const std::filesystem::path& link,
                                        const std::filesystem::path& target);

// Removes `link` if it is a symlink; anything else is left alone.
void remove_symlink(const std::filesystem::path& link) noexcept;

}  // namespace vmodem::at::detail
