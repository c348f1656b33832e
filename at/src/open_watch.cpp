#include "open_watch.hpp"

#include <cerrno>
#include <cstring>
#include <span>
#include <system_error>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <sys/inotify.h>
#include <unistd.h>

namespace vmodem::at::detail {

namespace asio = boost::asio;

namespace {

Error system_error(std::string what, int error_number) {
  return Error{ErrorCode::kSystem,
               std::move(what) + ": " + std::generic_category().message(error_number),
               error_number};
}

// Per watch descriptor in `events`: whether any of its events is an open.
// kEveryWatch: the kernel's queue overflowed (IN_Q_OVERFLOW, wd -1) and
// events were lost: every watcher must look again.
constexpr int kEveryWatch = -1;
constexpr int kDropNone = -2;
std::map<int, bool> by_watch(std::span<const std::uint8_t> events) {
  std::map<int, bool> seen;
  std::size_t at = 0;
  while (at + sizeof(inotify_event) <= events.size()) {
    inotify_event event{};
    std::memcpy(&event, events.data() + at, sizeof event);
    if ((event.mask & IN_Q_OVERFLOW) != 0) {
      seen[kEveryWatch] = false;
    } else if ((event.mask & IN_IGNORED) == 0) {
      seen[event.wd] |= (event.mask & IN_OPEN) != 0;
    }
    at += sizeof event + event.len;
  }
  return seen;
}

}  // namespace

asio::execution_context::id OpenWatchService::id;

// --- OpenWatch ---

OpenWatch::OpenWatch(OpenWatch&& other) noexcept
    : service_(std::exchange(other.service_, nullptr)), wd_(std::exchange(other.wd_, -1)) {}

OpenWatch& OpenWatch::operator=(OpenWatch&& other) noexcept {
  if (this != &other) {
    reset();
    service_ = std::exchange(other.service_, nullptr);
    wd_ = std::exchange(other.wd_, -1);
  }
  return *this;
}

OpenWatch::~OpenWatch() {
  reset();
}

void OpenWatch::drain() {
  if (service_ != nullptr) service_->drain(wd_);
}

void OpenWatch::reset() {
  if (service_ != nullptr) service_->unwatch(wd_);
  service_ = nullptr;
  wd_ = -1;
}

// --- OpenWatchService ---

OpenWatchService::OpenWatchService(asio::execution_context& context)
    : asio::execution_context::service(context), buffer_(16 * 1024) {}

OpenWatchService::~OpenWatchService() = default;

OpenWatchService& OpenWatchService::of(const asio::any_io_executor& executor) {
  return asio::use_service<OpenWatchService>(asio::query(executor, asio::execution::context));
}

void OpenWatchService::shutdown() {
  const std::lock_guard lock(mutex_);
  stopped_ = true;
  watchers_.clear();
  if (inotify_) {
    boost::system::error_code ignored;
    inotify_->close(ignored);
    // Destroyed now, while the descriptor service it uses (made after this
    // service, so destroyed before it) still exists.
    inotify_.reset();
  }
}

tl::expected<void, Error> OpenWatchService::start(const asio::any_io_executor& executor) {
  if (inotify_) return {};
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return tl::unexpected(system_error("inotify_init1", errno));
  inotify_.emplace(executor, fd);
  executor_ = executor;
  return {};
}

tl::expected<OpenWatch, Error> OpenWatchService::watch(const asio::any_io_executor& executor,
                                                       const std::string& path,
                                                       std::function<void(bool opened)> notify) {
  const std::lock_guard lock(mutex_);
  if (stopped_) return tl::unexpected(Error{ErrorCode::kSystem, "the io context is stopping", 0});
  if (auto started = start(executor); !started) return tl::unexpected(started.error());
  const int wd = ::inotify_add_watch(inotify_->native_handle(), path.c_str(), IN_OPEN | IN_CLOSE);
  if (wd < 0) return tl::unexpected(system_error("inotify on " + path, errno));
  watchers_[wd] = std::move(notify);
  read_more();
  return OpenWatch(this, wd);
}

void OpenWatchService::unwatch(int wd) {
  const std::lock_guard lock(mutex_);
  // Erased first: an event of it already read and posted finds no one.
  if (watchers_.erase(wd) == 0 || !inotify_) return;
  ::inotify_rm_watch(inotify_->native_handle(), wd);
  if (!watchers_.empty()) return;
  // No port left: the instance goes too, so a pending read does not keep
  // the io context's run() from returning. The next watch opens another.
  boost::system::error_code ignored;
  inotify_->close(ignored);
  inotify_.reset();
  ++instance_;
  reading_ = false;
}

// Called with mutex_ held.
void OpenWatchService::read_more() {
  if (reading_ || stopped_ || !inotify_) return;
  reading_ = true;
  inotify_->async_read_some(
      asio::buffer(buffer_),
      [this, instance = instance_](boost::system::error_code ec, std::size_t count) {
        std::vector<std::uint8_t> events;
        {
          const std::lock_guard lock(mutex_);
          if (instance != instance_) return;  // a closed instance's read
          reading_ = false;
          // An error ends the watching (the fd is gone): reads still see a host leave.
          if (ec || stopped_) return;
          events.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count));
        }
        deliver(events, instance, kDropNone);
        const std::lock_guard lock(mutex_);
        read_more();
      });
}

// Each watcher with events in `events` (but `drop_wd`'s) is told, without
// the lock held: a watcher may drain or unwatch from inside. Events of an
// instance since closed are dropped: watch numbers start again at 1 in the
// next one.
void OpenWatchService::deliver(const std::vector<std::uint8_t>& events, std::uint64_t instance,
                               int drop_wd) {
  for (const auto& [wd, opened] : by_watch(events)) {
    if (wd == drop_wd) continue;
    std::vector<std::function<void(bool)>> notify;
    {
      const std::lock_guard lock(mutex_);
      if (instance != instance_) return;
      if (wd == kEveryWatch) {
        for (const auto& [any, callback] : watchers_)
          notify.push_back(callback);
      } else if (const auto found = watchers_.find(wd); found != watchers_.end()) {
        notify.push_back(found->second);
      }
    }
    for (const auto& callback : notify)
      callback(opened);
  }
}

void OpenWatchService::drain(int wd) {
  std::vector<std::uint8_t> events;
  boost::asio::any_io_executor executor;
  std::uint64_t instance = 0;
  {
    const std::lock_guard lock(mutex_);
    if (!inotify_ || !inotify_->is_open()) return;
    executor = executor_;
    instance = instance_;
    std::vector<std::uint8_t> chunk(buffer_.size());
    for (;;) {
      const ssize_t n = ::read(inotify_->native_handle(), chunk.data(), chunk.size());
      if (n <= 0) break;
      events.insert(events.end(), chunk.begin(), chunk.begin() + n);
    }
  }
  if (events.empty()) return;
  // The other watchers' events were read here, not by the pending read:
  // they are delivered later on the io context, never inside this call.
  asio::post(executor,
             [this, events = std::move(events), instance, wd] { deliver(events, instance, wd); });
}

}  // namespace vmodem::at::detail
