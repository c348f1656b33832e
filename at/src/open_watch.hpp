#pragma once

// Who opens a PTY slave, seen through one inotify instance per io_context.
//
// A port learns that a host arrived (or left while no read was running) from
// inotify IN_OPEN / IN_CLOSE on its slave. The kernel lets a user have 128
// inotify instances (fs.inotify.max_user_instances) but thousands of watches:
// a fleet of 100 modules has 200 ports, so every port of an io_context
// shares one instance, and the service hands each port the events of its
// own watch.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <tl/expected.hpp>

#include <vmodem/at/error.hpp>

namespace vmodem::at::detail {

class OpenWatchService;

// One watched path's events, oldest first, from one look at the queue. A
// close and an open between two looks are both here, in order: a host that
// leaves as the next one arrives is two events, not "still open".
struct OpenEvents {
  std::vector<bool> opened;  // per event: true an open, false a close
  // The kernel's queue overflowed (IN_Q_OVERFLOW): events are missing, the
  // watcher must look at the device itself.
  bool lost = false;
};

// One path watched; unwatched when destroyed. Move-only.
class OpenWatch {
 public:
  OpenWatch() = default;
  OpenWatch(OpenWatch&& other) noexcept;
  OpenWatch& operator=(OpenWatch&& other) noexcept;
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;
  ~OpenWatch();

  // Takes this watch's events queued so far, at once, instead of having
  // them delivered (the port opened and closed the slave itself and must
  // tell its own events from a host's); events of other watches are still
  // delivered, later, on the io context.
  OpenEvents drain();
  void reset();

 private:
  friend class OpenWatchService;
  OpenWatch(OpenWatchService* service, int descriptor) : service_(service), wd_(descriptor) {}
  OpenWatchService* service_ = nullptr;
  int wd_ = -1;
};

class OpenWatchService : public boost::asio::execution_context::service {
 public:
  using key_type = OpenWatchService;
  static boost::asio::execution_context::id id;  // NOLINT: Asio's service registry key

  explicit OpenWatchService(boost::asio::execution_context& context);
  ~OpenWatchService() override;

  // The service of `executor`'s execution context (made on first use).
  static OpenWatchService& of(const boost::asio::any_io_executor& executor);

  // Watches `path` for opens and closes. `notify(events)` runs on the io
  // context's thread after each batch of events for the path, in order.
  // Errors: kSystem (no inotify instance or watch could be had, e.g. the
  // user's limits are reached).
  using Notify = std::function<void(const OpenEvents&)>;
  tl::expected<OpenWatch, Error> watch(const boost::asio::any_io_executor& executor,
                                       const std::string& path, Notify notify);

 private:
  friend class OpenWatch;
  void shutdown() override;
  tl::expected<void, Error> start(const boost::asio::any_io_executor& executor);
  void read_more();
  void read_queued();
  OpenEvents take(int wd);
  void deliver_backlog();
  void unwatch(int wd);
  OpenEvents drain(int wd);

  // The members below. The ports themselves are single-threaded, so their
  // io context runs on one thread; a drain() racing a read on another thread
  // could hand a port its own open back as a host's.
  std::mutex mutex_;
  std::optional<boost::asio::posix::stream_descriptor> inotify_;
  boost::asio::any_io_executor executor_;  // inotify_'s, for deliveries posted by drain()
  std::map<int, Notify> watchers_;         // by watch descriptor
  std::vector<std::uint8_t> buffer_;
  // Events read, not yet told, oldest first (wd -1: the queue overflowed).
  struct Pending {
    int wd;
    bool opened;
  };
  std::deque<Pending> backlog_;
  std::uint64_t instance_ = 0;  // bumped when the inotify instance is closed
  bool reading_ = false;
  bool stopped_ = false;
};

}  // namespace vmodem::at::detail
