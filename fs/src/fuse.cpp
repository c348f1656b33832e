// FUSE mounts: foreground (CLI) and background thread (live simulator).
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmodem/fs/fuse.hpp>

#include "fuse_ops.hpp"

extern char** environ;

namespace vmodem::fs {

bool fuse_available(std::string* why) {
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = std::string("/dev/fuse: ") + std::strerror(errno);
    return false;
  }
  ::close(fd);
  return true;
}

namespace {

// A configured, mounted libfuse instance (not yet serving).
struct Instance {
  fuse_adapter::Context context;
  fuse* handle = nullptr;
  bool signal_handlers = false;  // installed by create(), removed by finish()
};

// `signals`: Ctrl-C, SIGTERM and SIGHUP end the loop (libfuse's handlers),
// installed before the mount appears — a signal between the mount and the
// handlers would kill the process and leave the mount point dead
// ("Transport endpoint is not connected").
Result<std::unique_ptr<Instance>> create(SharedFileSystem& fs, const std::filesystem::path& dir,
                                         const FuseOptions& options, bool signals) {
  std::string why;
  if (!fuse_available(&why)) return fail(Errc::unsupported, "FUSE not available: " + why);
  auto inst = std::make_unique<Instance>();
  inst->context.fs = &fs;
  inst->context.read_only = options.read_only || fs.lock()->read_only();
  std::string opts = "fsname=" + options.fs_name + ",subtype=vmodemfs";
  if (inst->context.read_only) opts += ",ro";
  if (options.allow_other) opts += ",allow_other";
  std::vector<std::string> argv_s = {"vmodem", "-o", opts};
  if (options.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  inst->handle =
      fuse_new(&args, &fuse_adapter::operations(), sizeof(fuse_operations), &inst->context);
  fuse_opt_free_args(&args);  // fuse_new may have copied arguments into it
  if (!inst->handle) return fail(Errc::io_error, "fuse_new failed (bad options?)");
  fuse_session* session = fuse_get_session(inst->handle);
  inst->signal_handlers = signals && fuse_set_signal_handlers(session) == 0;
  if (fuse_mount(inst->handle, dir.c_str()) != 0) {
    if (inst->signal_handlers) fuse_remove_signal_handlers(session);
    fuse_destroy(inst->handle);
    return fail(Errc::io_error, "cannot mount at " + dir.string() + " (see libfuse message)");
  }
  return inst;
}

void finish(Instance& inst) {
  if (inst.signal_handlers) fuse_remove_signal_handlers(fuse_get_session(inst.handle));
  fuse_unmount(inst.handle);
  fuse_destroy(inst.handle);
  inst.handle = nullptr;
}

// fusermount3 -u -z DIR: detaches the mount so the serving thread's read
// on /dev/fuse returns and its loop ends.
int lazy_unmount(const std::filesystem::path& dir) {
  std::string prog = "fusermount3", u = "-uz", d = dir.string();
  char* argv[] = {prog.data(), u.data(), d.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "fusermount3", nullptr, nullptr, argv, environ) != 0) return -1;
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// /proc/self/mountinfo writes a space, tab, newline or backslash in a path
// as a three-digit octal escape.
std::string unescape_mountinfo(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const bool escape = field[i] == '\\' && i + 3 < field.size() &&
                        field.find_first_not_of("01234567", i + 1) >= i + 4;
    if (escape) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// The file-system type of the mount whose mount point is `dir` ("" if none).
std::string mount_type_at(const std::filesystem::path& dir) {
  std::ifstream info("/proc/self/mountinfo");
  std::string line, type;
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    fields >> id >> parent >> device >> root >> point;
    if (unescape_mountinfo(point) != dir.string()) continue;
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    tail >> type;  // the last mount at a point is the visible one
  }
  return type;
}

}  // namespace

bool clear_dead_mount(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 || errno != ENOTCONN) return false;
  // The path as mountinfo spells it: absolute, the parent's links resolved
  // (the dead mount point itself cannot be resolved).
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(dir, ec);
  if (ec) return false;
  auto parent = std::filesystem::canonical(absolute.parent_path(), ec);
  if (ec) return false;
  if (mount_type_at(parent / absolute.filename()) != "fuse.vmodemfs") return false;
  return lazy_unmount(parent / absolute.filename()) == 0;
}

Status mount(SharedFileSystem& fs, const std::filesystem::path& dir, const FuseOptions& options) {
  auto inst = create(fs, dir, options, true);
  if (!inst) return tl::unexpected(inst.error());
  const int rc = fuse_loop((*inst)->handle);  // single-threaded
  finish(**inst);
  if (rc < 0) return fail(Errc::io_error, std::string("fuse loop: ") + std::strerror(-rc));
  return {};
}

struct FuseMount::State {
  std::filesystem::path dir;
  std::unique_ptr<Instance> inst;
  std::thread thread;
  std::atomic<bool> running{false};
  bool stopped = false;
};

FuseMount::FuseMount(std::unique_ptr<State> state) : state_(std::move(state)) {}
FuseMount::~FuseMount() {
  (void)stop();
}

Result<std::unique_ptr<FuseMount>> FuseMount::start(SharedFileSystem& fs,
                                                    const std::filesystem::path& dir,
                                                    const FuseOptions& options) {
  auto inst = create(fs, dir, options, false);
  if (!inst) return tl::unexpected(inst.error());
  auto state = std::make_unique<State>();
  state->dir = dir;
  state->inst = std::move(*inst);
  state->running = true;
  State* s = state.get();
  state->thread = std::thread([s] {
    (void)fuse_loop(s->inst->handle);
    s->running = false;
  });
  return std::unique_ptr<FuseMount>(new FuseMount(std::move(state)));
}

Status FuseMount::stop() {
  if (!state_ || state_->stopped) return {};
  state_->stopped = true;
  if (state_->running) {
    fuse_exit(state_->inst->handle);
    if (lazy_unmount(state_->dir) != 0) {
      // Already unmounted from outside, or fusermount3 missing: the loop may
      // still be waiting; an access wakes it so it sees the exit flag.
      std::error_code ignored;
      (void)std::filesystem::status(state_->dir, ignored);
    }
  }
  if (state_->thread.joinable()) state_->thread.join();
  finish(*state_->inst);
  return {};
}

void FuseMount::detach(bool release_open_files) {
  auto& context = state_->inst->context;
  std::lock_guard lock(context.mutex);
  if (!context.fs) return;
  if (release_open_files) {
    const auto fs = context.fs->lock();
    for (const Handle h : context.open)
      (void)fs->close(h);  // a failure here is the file system's to report
  }
  context.open.clear();
  context.fs = nullptr;
}

void FuseMount::attach(SharedFileSystem& fs) {
  auto& context = state_->inst->context;
  std::lock_guard lock(context.mutex);
  context.open.clear();
  ++context.generation;
  context.fs = &fs;
}

bool FuseMount::attached() const {
  auto& context = state_->inst->context;
  std::lock_guard lock(context.mutex);
  return context.fs != nullptr;
}

const std::filesystem::path& FuseMount::dir() const {
  return state_->dir;
}
bool FuseMount::running() const {
  return state_ && state_->running;
}

}  // namespace vmodem::fs
