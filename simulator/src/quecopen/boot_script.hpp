// The user's own boot script on an EC2x QuecOpen module (seed 001's
// app_auto_backup_restore.sh, or any /bin/sh script), run where the boot
// runs the application sync, against the module's own partitions:
//
//   * each file system with a Linux mount point (system at /, usr_data at
//     /usrdata) is served by this process through FUSE at a private
//     directory, so the script's cp, rm, mkdir and rename are file-system
//     and NAND operations of the module — counted, cuttable, torn;
//   * the script runs as `/bin/sh SCRIPT` in a private mount namespace
//     (unshare(1), as root) chrooted into a tmpfs that holds the host's
//     tools read-only (/bin, /lib, /usr, /etc, ...; /dev, /proc and an empty
//     /tmp), the top-level entries of the module's root file system bound
//     in beside them (a name the host's tools already use stays the host's:
//     logged), and each other file system at its mount point. Nothing the
//     script does reaches the host's own tree, and the mounts vanish with
//     the namespace;
//   * its output goes to the module's log (one line per line, "boot script:
//     ..."); a script still running at the timeout is killed (its whole
//     process group) and reported so.
//
// What differs from the module: files reach NAND when the script closes
// them (FUSE release), in program order; there is no page cache for the
// script, so `sync` changes nothing here — a script that forgets it can
// pass here and fail on hardware (the built-in sync models the cache).
//
// Threads: start() and abort() on the io thread; the FUSE threads serve the
// file systems through their SharedFileSystem locks, which the io thread
// must not hold while a script runs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>
#include <tl/expected.hpp>

#include <vmodem/fs/shared.hpp>

namespace vmodem::sim::quecopen {

class BootScript {
 public:
  struct Mount {
    std::string linux_mount;  // "/" or an absolute directory ("/usrdata")
    fs::SharedFileSystem* fs = nullptr;
  };
  struct Options {
    std::filesystem::path script;  // a host file, read by /bin/sh
    std::vector<Mount> mounts;
    std::chrono::milliseconds timeout{60'000};
    std::shared_ptr<spdlog::logger> log;  // never null
  };
  struct Finished {
    int exit_code = -1;  // the script's; -1 when it did not exit (killed)
    bool timed_out = false;
    std::chrono::milliseconds took{0};
  };
  using Done = std::function<void(const Finished&)>;

  // True when this process can run boot scripts (root: it may make mount
  // namespaces; /dev/fuse opens); otherwise false with the reason.
  static bool available(std::string* why);

  // Mounts the file systems and starts the script. `done` runs on `io`
  // once the script has ended (never from inside start()). Errors: the
  // script is not a readable regular file, a mount failed, the process
  // could not start — nothing is left running then.
  static tl::expected<std::unique_ptr<BootScript>, std::string> start(boost::asio::io_context& io,
                                                                      Options options, Done done);
  // The script dies now (SIGKILL to its process group) and its mounts
  // answer EIO from here on, whatever it had open: the power went, or the
  // module shuts down. `done` is not called. Idempotent.
  void abort();
  // abort(), then the mounts are taken down and their directory removed.
  ~BootScript();
  BootScript(const BootScript&) = delete;
  BootScript& operator=(const BootScript&) = delete;

  struct State;

 private:
  explicit BootScript(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace vmodem::sim::quecopen
