// The listener: socket file creation (mode 0600, stale-socket replacement),
// the accept loop and shutdown. Connections live in session.cpp.
#include <cstdlib>
#include <cstring>

#include <boost/asio/post.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmodem/simulator/control_server.hpp>

#include "control/schema.hpp"
#include "control/server_core.hpp"
#include "control/session.hpp"

namespace vmodem::sim {

namespace {

namespace fs = std::filesystem;
using Protocol = boost::asio::local::stream_protocol;
using Core = ControlServer::Core;

constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// True if something accepts connections at `path` (another running module).
bool socket_is_live(const fs::path& path) {
  boost::asio::io_context probe_context;
  Protocol::socket probe(probe_context);
  boost::system::error_code ec;
  probe.connect(Protocol::endpoint(path.string()), ec);
  return !ec;
}

// Refuses to clobber anything but a dead socket.
tl::expected<void, std::string> check_existing(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};  // nothing there
  if (!S_ISSOCK(st.st_mode)) {
    return tl::unexpected(path.string() + " exists and is not a socket; not replacing it");
  }
  if (socket_is_live(path)) {
    return tl::unexpected("another process is serving " + path.string() +
                          " (is a vmodem already running with this state directory?)");
  }
  return {};  // stale, from a run that ended without cleaning up
}

tl::expected<void, std::string> bind_listen(Core& core, const fs::path& where) {
  boost::system::error_code ec;
  core.acceptor.open(Protocol(), ec);
  if (!ec) core.acceptor.bind(Protocol::endpoint(where.string()), ec);
  if (!ec) core.acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return tl::unexpected("cannot listen on " + where.string() + ": " + ec.message());
  return {};
}

// Binds inside a fresh 0700 directory, sets 0600 and renames the socket into
// place, so no client can ever connect through a wider mode and a stale
// socket is replaced atomically. When the temporary name would not fit in a
// sockaddr_un, binds in place (after removing the stale socket) instead.
tl::expected<void, std::string> create_socket(Core& core, const fs::path& path) {
  std::string temp_dir = (path.parent_path() / ".ctl-XXXXXX").string();
  if (temp_dir.size() + 2 <= kMaxSocketPath && ::mkdtemp(temp_dir.data()) != nullptr) {
    const fs::path temp = fs::path(temp_dir) / "s";
    auto bound = bind_listen(core, temp);
    if (bound && ::chmod(temp.c_str(), 0600) != 0) {
      bound = tl::unexpected("chmod " + temp.string() + ": " + errno_text(errno));
    }
    if (bound && ::rename(temp.c_str(), path.c_str()) != 0) {
      bound = tl::unexpected("rename to " + path.string() + ": " + errno_text(errno));
    }
    ::unlink(temp.c_str());  // fails harmlessly once renamed
    ::rmdir(temp_dir.c_str());
    return bound;
  }
  ::unlink(path.c_str());
  auto bound = bind_listen(core, path);
  if (bound && ::chmod(path.c_str(), 0600) != 0)
    return tl::unexpected("chmod " + path.string() + ": " + errno_text(errno));
  return bound;
}

void accept_next(const std::shared_ptr<Core>& core) {
  core->acceptor.async_accept([core](const boost::system::error_code& ec, Protocol::socket socket) {
    if (core->stopped || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE and friends: try again shortly instead of spinning.
      core->retry.expires_after(std::chrono::milliseconds(100));
      core->retry.async_wait([core](const boost::system::error_code& wait_ec) {
        if (!wait_ec && !core->stopped) accept_next(core);
      });
      return;
    }
    auto session = std::make_shared<control::Session>(core, std::move(socket));
    const bool full = core->sessions.size() >= core->options.max_clients;
    core->sessions.insert(session);
    if (full) {
      session->reject({std::string(control::kGenericError),
                       "too many clients (" + std::to_string(core->options.max_clients) +
                           "); try again later"});
    } else {
      session->start();
    }
    accept_next(core);
  });
}

}  // namespace

ControlServer::ControlServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}

tl::expected<std::unique_ptr<ControlServer>, std::string> ControlServer::start(
    boost::asio::any_io_executor executor, ControlTarget& target, ControlServerOptions options) {
  const fs::path path = options.socket_path;
  if (path.empty()) return tl::unexpected(std::string("no control socket path given"));
  if (path.string().size() > kMaxSocketPath) {
    return tl::unexpected("control socket path " + path.string() + " is longer than " +
                          std::to_string(kMaxSocketPath) + " bytes (a Unix socket limit)");
  }
  if (auto ok = check_existing(path); !ok) return tl::unexpected(ok.error());
  auto core = std::make_shared<Core>(std::move(executor), target, std::move(options));
  if (auto ok = create_socket(*core, path); !ok) return tl::unexpected(ok.error());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    core->socket_dev = st.st_dev;
    core->socket_ino = st.st_ino;
  }
  // Accepting starts on the executor, so start() is safe before it runs.
  boost::asio::post(core->executor, [core] {
    if (!core->stopped) accept_next(core);
  });
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(core)));
}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::stop() {
  if (!core_ || core_->stopped) return;
  core_->stopped = true;
  boost::system::error_code ignored;
  core_->acceptor.close(ignored);
  core_->retry.cancel();
  const auto sessions = core_->sessions;  // close() edits the set
  for (const auto& session : sessions)
    session->close();
  struct stat st {};
  const auto& path = core_->options.socket_path;
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == core_->socket_dev &&
      st.st_ino == core_->socket_ino) {
    ::unlink(path.c_str());
  }
}

const std::filesystem::path& ControlServer::socket_path() const {
  return core_->options.socket_path;
}

std::size_t ControlServer::client_count() const {
  return core_->sessions.size();
}

}  // namespace vmodem::sim
