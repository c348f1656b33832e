// The port links of a daemon that dies without cleaning up (kill -9, a
// crash) must not outlive it: each names a /dev/pts/N the kernel hands out
// again, maybe to another module's port, and a host opening the link would
// talk to that module. Start-up removes links left in the state directory
// (PtyPort::open), but that leaves them stale until the next start; the
// reaper closes the window to the moment of death.
//
// LinkReaper::start forks a small helper that holds nothing but its end of a
// socket pair (and the state directory): no image lock, no PTY. The daemon
// tells it each link it points at a new PTY, with the link's inode. When the
// daemon's end closes (the kernel closes it at any death, SIGKILL included),
// the helper removes every link that is still the one the daemon made (same
// inode: a link a newer daemon has since put there is a different inode and
// stays) and exits. Ways that would not close the hole: checking the link in
// `vmodem ctl` (hosts open the path with any tool, never through vmodem);
// PR_SET_PDEATHSIG (fires when the forking thread ends, not the process, and
// still needs this helper to do the unlinking).
#pragma once

#include <filesystem>
#include <string>

#include <tl/expected.hpp>

namespace vmodem::cli {

class LinkReaper {
 public:
  // Forks the helper for links in `state_dir`. Call while the process has
  // one thread and before it opens the image or any PTY (the helper closes
  // every inherited descriptor anyway). Errors: the reason (socketpair,
  // fork or opening the directory failed).
  static tl::expected<LinkReaper, std::string> start(const std::filesystem::path& state_dir);

  LinkReaper(LinkReaper&& other) noexcept;
  LinkReaper& operator=(LinkReaper&& other) noexcept;
  LinkReaper(const LinkReaper&) = delete;
  LinkReaper& operator=(const LinkReaper&) = delete;
  // Closes the daemon's end: the helper removes what is still ours and exits.
  ~LinkReaper();

  // `link` (in the state directory, or a directory below it: `run --count`
  // serves every module's links from one reaper) now names one of our PTYs. Never blocks:
  // a helper that is gone or not reading loses the message (the link is
  // then removed at the next start instead).
  void linked(const std::filesystem::path& link) const;

 private:
  LinkReaper(int fd, std::filesystem::path dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_ = -1;
  std::filesystem::path dir_;
};

}  // namespace vmodem::cli
