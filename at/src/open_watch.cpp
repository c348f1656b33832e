#include "open_watch.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
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

// kEveryWatch: the kernel's queue overflowed (IN_Q_OVERFLOW, wd -1) and
// events were lost: every watcher must look again.
constexpr int kEveryWatch = -1;

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

OpenEvents OpenWatch::drain() {
  if (service_ == nullptr) return {};
  return service_->drain(wd_);
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
  backlog_.clear();
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
                                                       const std::string& path, Notify notify) {
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
  backlog_.clear();  // watch numbers start again at 1 in the next instance
  reading_ = false;
}

// Called with mutex_ held. Waits, then reads in the handler: an event is
// either still in the kernel's queue or in backlog_, never inside a finished
// read not yet handled, so drain() sees every event that happened.
void OpenWatchService::read_more() {
  if (reading_ || stopped_ || !inotify_) return;
  reading_ = true;
  inotify_->async_wait(asio::posix::descriptor_base::wait_read,
                       [this, instance = instance_](boost::system::error_code ec) {
                         {
                           const std::lock_guard lock(mutex_);
                           if (instance != instance_) return;  // a closed instance's wait
                           reading_ = false;
                           // An error ends the watching (the fd is gone): reads still see a host
                           // leave.
                           if (ec || stopped_) return;
                           read_queued();
                         }
                         deliver_backlog();
                         const std::lock_guard lock(mutex_);
                         read_more();
                       });
}

// Called with mutex_ held: every event queued in the kernel, into backlog_.
void OpenWatchService::read_queued() {
  if (!inotify_ || !inotify_->is_open()) return;
  for (;;) {
    const ssize_t n = ::read(inotify_->native_handle(), buffer_.data(), buffer_.size());
    if (n <= 0) return;  // EAGAIN: all read
    std::size_t at = 0;
    while (at + sizeof(inotify_event) <= static_cast<std::size_t>(n)) {
      inotify_event event{};
      std::memcpy(&event, buffer_.data() + at, sizeof event);
      if ((event.mask & IN_Q_OVERFLOW) != 0) {
        backlog_.push_back({kEveryWatch, false});
      } else if ((event.mask & IN_IGNORED) == 0) {
        backlog_.push_back({event.wd, (event.mask & IN_OPEN) != 0});
      }
      at += sizeof event + event.len;
    }
  }
}

// Called with mutex_ held: `wd`'s events out of backlog_, oldest first; an
// overflow in it counts as lost for `wd` too (and stays for the others).
OpenEvents OpenWatchService::take(int wd) {
  OpenEvents mine;
  std::erase_if(backlog_, [&](const Pending& event) {
    if (event.wd == kEveryWatch) mine.lost = true;
    if (event.wd != wd) return false;
    mine.opened.push_back(event.opened);
    return true;
  });
  return mine;
}

// One watcher at a time, the one with the oldest event first, its events
// told without the lock held: a watcher may drain or unwatch from inside,
// and what it drains is older than anything still to be read.
void OpenWatchService::deliver_backlog() {
  for (;;) {
    std::vector<Notify> notify;
    OpenEvents events;
    {
      const std::lock_guard lock(mutex_);
      if (backlog_.empty()) return;
      const int wd = backlog_.front().wd;
      if (wd == kEveryWatch) {
        backlog_.pop_front();
        events.lost = true;
        for (const auto& [any, callback] : watchers_)
          notify.push_back(callback);
      } else {
        events = take(wd);
        if (const auto found = watchers_.find(wd); found != watchers_.end()) {
          notify.push_back(found->second);
        }
      }
    }
    for (const auto& callback : notify)
      callback(events);
  }
}

OpenEvents OpenWatchService::drain(int wd) {
  boost::asio::any_io_executor executor;
  OpenEvents mine;
  {
    const std::lock_guard lock(mutex_);
    if (!inotify_ || !inotify_->is_open()) return {};
    executor = executor_;
    read_queued();
    mine = take(wd);
    if (backlog_.empty()) return mine;
  }
  // The other watchers' events read here are told later on the io context,
  // never inside this call.
  asio::post(executor, [this] { deliver_backlog(); });
  return mine;
}

}  // namespace vmodem::at::detail
