#include "quecopen/boot_script.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <system_error>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmodem/fs/fuse.hpp>

extern char** environ;  // NOLINT: posix_spawn passes the daemon's environment on

namespace vmodem::sim::quecopen {

namespace {

namespace asio = boost::asio;

// Run by /bin/sh inside the new mount namespace (unshare --mount, private
// propagation): $1 the new root (an empty directory), $2 the script, then
// pairs of (FUSE directory, Linux mount point), "/" first. Builds the root
// and replaces itself with the script, chrooted.
constexpr const char* kSetup = R"sh(set -e
root=$1; script=$2; shift 2
mount -t tmpfs -o mode=0755 vmodem-boot "$root"
for d in bin sbin lib lib32 lib64 libx32 usr etc; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then
    mkdir "$root/$d"; mount --rbind "/$d" "$root/$d"
    mount -o remount,bind,ro "$root/$d" 2>/dev/null || true
  fi
done
mkdir "$root/dev" "$root/proc" "$root/tmp"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
while [ $# -gt 1 ]; do
  src=$1; at=$2; shift 2
  if [ "$at" = / ]; then
    for e in "$src"/* "$src"/.[!.]*; do
      [ -e "$e" ] || continue
      n=${e##*/}
      if [ -e "$root/$n" ] || [ -L "$root/$n" ]; then
        echo "vmodem: /$n of the module's root file system is hidden by the host's" >&2; continue
      fi
      if [ -d "$e" ]; then mkdir "$root/$n"; else : > "$root/$n"; fi
      mount --bind "$e" "$root/$n"
    done
  else
    mkdir -p "$root$at"; mount --bind "$src" "$root$at"
  fi
done
cp "$script" "$root/tmp/boot-script"
cd "$root"
exec chroot "$root" /bin/sh -c 'cd / && exec /bin/sh /tmp/boot-script'
)sh";

constexpr std::size_t kMaxLine = 4096;

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

}  // namespace

struct BootScript::State : std::enable_shared_from_this<BootScript::State> {
  State(asio::io_context& io, Options o, Done d)
      : options(std::move(o)), done(std::move(d)), output(io), exited(io), timer(io) {}

  Options options;
  Done done;
  std::filesystem::path work;  // mkdtemp'd: fs0, fs1, ... and root
  std::vector<std::unique_ptr<fs::FuseMount>> mounts;
  pid_t pid = -1;
  bool reaped = false;
  bool aborted = false;
  bool timed_out = false;
  std::chrono::steady_clock::time_point started;
  asio::posix::stream_descriptor output;  // the script's stdout and stderr
  asio::posix::stream_descriptor exited;  // a pidfd: readable once it exits
  asio::steady_timer timer;
  std::array<char, 4096> chunk{};
  std::string line;

  tl::expected<void, std::string> mount_all();
  tl::expected<void, std::string> spawn();
  void read_output();
  void take(std::string_view bytes);
  void flush_line();
  void drain_output();
  void wait_exit();
  void finish();
  void kill_group();
  void detach_mounts();
  void tear_down();
};

tl::expected<void, std::string> BootScript::State::mount_all() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vmodem-boot-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return tl::unexpected("mkdtemp: " + errno_text(errno));
  work = tmpl;
  std::error_code failed;
  std::filesystem::create_directory(work / "root", failed);
  if (failed) return tl::unexpected("cannot make " + (work / "root").string());
  for (std::size_t i = 0; i < options.mounts.size(); ++i) {
    const auto dir = work / ("fs" + std::to_string(i));
    std::filesystem::create_directory(dir, failed);
    if (failed) return tl::unexpected("cannot make " + dir.string());
    fs::FuseOptions fuse;
    fuse.fs_name = "vmodem-boot";
    auto mounted = fs::FuseMount::start(*options.mounts[i].fs, dir, fuse);
    if (!mounted) return tl::unexpected("FUSE mount: " + mounted.error().message());
    mounts.push_back(std::move(*mounted));
  }
  return {};
}

tl::expected<void, std::string> BootScript::State::spawn() {
  // Root's mount point first: the others are bound on top of its tree.
  std::vector<std::size_t> order(options.mounts.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::ranges::sort(order, [&](std::size_t a, std::size_t b) {
    return options.mounts[a].linux_mount.size() < options.mounts[b].linux_mount.size();
  });
  std::vector<std::string> args{"unshare",
                                "--mount",
                                "--propagation",
                                "private",
                                "--",
                                "/bin/sh",
                                "-c",
                                kSetup,
                                "vmodem-boot-script",
                                (work / "root").string(),
                                options.script.string()};
  for (const std::size_t i : order) {
    args.push_back((work / ("fs" + std::to_string(i))).string());
    args.push_back(options.mounts[i].linux_mount);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) return tl::unexpected("pipe: " + errno_text(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group (killed whole at the timeout), default signal
  // handling and nothing blocked, whatever the daemon set up for itself.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int spawned = ::posix_spawnp(&pid, "unshare", &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    pid = -1;
    return tl::unexpected("cannot start unshare(1): " + errno_text(spawned));
  }
  output.assign(pipe_fds[0]);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    kill_group();
    return tl::unexpected("pidfd_open: " + errno_text(errno));
  }
  exited.assign(pidfd);
  started = std::chrono::steady_clock::now();
  return {};
}

void BootScript::State::read_output() {
  output.async_read_some(
      asio::buffer(chunk),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t got) {
        if (ec || self->aborted) return;  // EOF, or closed
        self->take({self->chunk.data(), got});
        self->read_output();
      });
}

void BootScript::State::take(std::string_view bytes) {
  for (const char c : bytes) {
    if (c == '\n') {
      flush_line();
    } else if (line.size() < kMaxLine) {
      line.push_back(c);
    }
  }
}

void BootScript::State::flush_line() {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  options.log->info("boot script: {}", line);
  line.clear();
}

void BootScript::State::drain_output() {
  if (!output.is_open()) return;
  output.non_blocking(true);
  boost::system::error_code ec;
  for (;;) {
    const std::size_t got = output.read_some(asio::buffer(chunk), ec);
    if (ec || got == 0) break;
    take({chunk.data(), got});
  }
  if (!line.empty()) flush_line();
}

void BootScript::State::wait_exit() {
  exited.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](const boost::system::error_code& ec) {
                      if (ec || self->aborted) return;
                      self->finish();
                    });
  timer.expires_after(options.timeout);
  timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->aborted || self->reaped) return;
    self->options.log->warn("boot script: still running after {} ms: killed",
                            self->options.timeout.count());
    self->timed_out = true;
    self->kill_group();  // the pidfd turns readable: finish() reports it
  });
}

void BootScript::State::finish() {
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid) reaped = true;
  kill_group();  // anything it left running in the background
  timer.cancel();
  drain_output();
  Finished finished;
  finished.exit_code = reaped && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  finished.timed_out = timed_out;
  finished.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  // The namespace, and with it every bind of the mounts, is gone with the
  // script's processes: the mounts serve nobody any more.
  detach_mounts();
  if (done) done(finished);
}

void BootScript::State::kill_group() {
  if (pid > 0) (void)::kill(-pid, SIGKILL);
}

void BootScript::State::detach_mounts() {
  for (auto& mount : mounts)
    mount->detach(false);
}

void BootScript::State::tear_down() {
  kill_group();
  if (pid > 0 && !reaped) {
    int status = 0;
    (void)::waitpid(pid, &status, 0);  // SIGKILLed: it goes at once
    reaped = true;
  }
  detach_mounts();
  for (auto& mount : mounts)
    (void)mount->stop();
  mounts.clear();
  boost::system::error_code ignored;
  output.close(ignored);
  exited.close(ignored);
  timer.cancel();
  if (!work.empty()) {
    std::error_code failed;
    std::filesystem::remove_all(work, failed);
  }
}

bool BootScript::available(std::string* why) {
  if (::geteuid() != 0) {
    if (why) *why = "boot scripts need root (a private mount namespace, FUSE mounts bound into it)";
    return false;
  }
  return fs::fuse_available(why);
}

tl::expected<std::unique_ptr<BootScript>, std::string> BootScript::start(asio::io_context& io,
                                                                         Options options,
                                                                         Done done) {
  std::error_code failed;
  if (!std::filesystem::is_regular_file(options.script, failed))
    return tl::unexpected(options.script.string() + ": not a regular file");
  if (::access(options.script.c_str(), R_OK) != 0)
    return tl::unexpected(options.script.string() + ": " + errno_text(errno));
  if (std::string why; !available(&why)) return tl::unexpected(why);
  auto state = std::make_shared<State>(io, std::move(options), std::move(done));
  std::unique_ptr<BootScript> script(new BootScript(state));
  if (auto mounted = state->mount_all(); !mounted) return tl::unexpected(mounted.error());
  if (auto spawned = state->spawn(); !spawned) return tl::unexpected(spawned.error());
  state->read_output();
  state->wait_exit();
  return script;
}

BootScript::BootScript(std::shared_ptr<State> state) : state_(std::move(state)) {}

void BootScript::abort() {
  if (state_->aborted) return;
  state_->aborted = true;
  state_->kill_group();
  state_->detach_mounts();
}

BootScript::~BootScript() {
  abort();
  state_->tear_down();
}

}  // namespace vmodem::sim::quecopen
