#include "cli/ctl_client.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vmodem::cli {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Replies and the greeting are small; anything past this is not our server.
constexpr std::size_t kMaxReplyBytes = std::size_t{64} << 20;
// How often a blocked read looks at the stop flag.
constexpr int kPollSliceMs = 100;

}  // namespace

tl::expected<ControlClient, ClientError> ControlClient::connect(const std::filesystem::path& socket,
                                                                int timeout_ms) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket.string();
  if (path.size() >= sizeof(address.sun_path)) {
    return tl::unexpected(ClientError{ClientError::Kind::io,
                                      "socket path " + path + " is too long for a Unix socket"});
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return tl::unexpected(ClientError{ClientError::Kind::io, errno_text(errno)});
  ControlClient client(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    const bool absent = error == ENOENT || error == ECONNREFUSED || error == ENOTDIR;
    if (!absent) {
      return tl::unexpected(ClientError{ClientError::Kind::io,
                                        "cannot connect to " + path + ": " + errno_text(error)});
    }
    // The root of a fleet (`run --count`) holds the modules' directories.
    const auto dir = socket.parent_path();
    std::error_code ec;
    const bool fleet = std::filesystem::exists(dir / "0" / "control.sock", ec);
    return tl::unexpected(ClientError{
        ClientError::Kind::unavailable,
        "no module is running at " + path + " (" + errno_text(error) + "); " +
            (fleet ? "this is the state directory of a fleet (`vmodem run --count`): name one "
                     "module's, e.g. --state " +
                         (dir / "0").string()
                   : "start one with `vmodem run`")});
  }
  auto greeting = client.read_message(timeout_ms, nullptr);
  if (!greeting) return tl::unexpected(greeting.error());
  if (!greeting->is_object() || !greeting->contains("vmodem")) {
    return tl::unexpected(
        ClientError{ClientError::Kind::io, path + " did not greet like a vmodem control socket"});
  }
  client.greeting_ = std::move(*greeting);
  return client;
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      greeting_(std::move(other.greeting_)),
      next_id_(other.next_id_) {}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

tl::expected<void, ClientError> ControlClient::send_line(const std::string& line) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t sent = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      return tl::unexpected(ClientError{ClientError::Kind::closed,
                                        "the module closed the connection: " + errno_text(errno)});
    }
    rest.remove_prefix(static_cast<std::size_t>(sent));
  }
  return {};
}

tl::expected<std::string, ClientError> ControlClient::read_line(
    int timeout_ms, const volatile std::sig_atomic_t* stop) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (buffer_.size() > kMaxReplyBytes) {
      return tl::unexpected(ClientError{ClientError::Kind::io, "reply line too long"});
    }
    if (stop && *stop) return tl::unexpected(ClientError{ClientError::Kind::interrupted, ""});
    int wait = kPollSliceMs;
    if (timeout_ms >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        return tl::unexpected(ClientError{
            ClientError::Kind::timeout,
            "no reply within " + std::to_string(timeout_ms / 1000) + " s (is the module stuck?)"});
      }
      wait = static_cast<int>(std::min<long long>(left, kPollSliceMs));
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, wait);
    if (ready < 0 && errno != EINTR) {
      return tl::unexpected(ClientError{ClientError::Kind::io, errno_text(errno)});
    }
    if (ready <= 0) continue;
    char chunk[64 * 1024];
    const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return tl::unexpected(
          ClientError{ClientError::Kind::closed, "the module closed the control connection"});
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

tl::expected<json, ClientError> ControlClient::read_message(
    int timeout_ms, const volatile std::sig_atomic_t* stop) {
  auto line = read_line(timeout_ms, stop);
  if (!line) return tl::unexpected(line.error());
  json message = json::parse(*line, nullptr, false);
  if (message.is_discarded()) {
    return tl::unexpected(
        ClientError{ClientError::Kind::io, "the server sent a line that is not JSON"});
  }
  return message;
}

tl::expected<json, ClientError> ControlClient::execute(const std::string& command,
                                                       const json& arguments, int timeout_ms,
                                                       const volatile std::sig_atomic_t* stop) {
  const std::uint64_t id = next_id_++;
  json request = {{"execute", command}, {"id", id}};
  if (!arguments.empty()) request["arguments"] = arguments;
  if (auto sent = send_line(request.dump() + "\n"); !sent) return tl::unexpected(sent.error());
  for (;;) {
    auto message = read_message(timeout_ms, stop);
    if (!message) return message;
    if (!message->is_object() || message->contains("event")) continue;
    // A reply without our id can only be the server refusing the line itself.
    if (!message->contains("id") || (*message)["id"] == id) return message;
  }
}

}  // namespace vmodem::cli
