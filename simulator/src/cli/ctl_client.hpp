// The client end of the control socket for `vmodem ctl`: blocking, one
// connection, line at a time, with a deadline and a stop flag (Ctrl-C).
#pragma once

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace vmodem::cli {

struct ClientError {
  enum class Kind { unavailable, io, timeout, interrupted, closed };
  Kind kind;
  std::string message;
};

class ControlClient {
 public:
  // Connects and reads the greeting.
  static tl::expected<ControlClient, ClientError> connect(const std::filesystem::path& socket,
                                                          int timeout_ms);
  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&&) = delete;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  const nlohmann::json& greeting() const { return greeting_; }
  tl::expected<void, ClientError> send_line(const std::string& line);
  // The next line, parsed. timeout_ms < 0: wait forever. Returns
  // `interrupted` soon after *stop becomes non-zero.
  tl::expected<nlohmann::json, ClientError> read_message(int timeout_ms,
                                                         const volatile std::sig_atomic_t* stop);
  // Sends a request and waits for its reply ({"return"} or {"error"}),
  // skipping events.
  tl::expected<nlohmann::json, ClientError> execute(const std::string& command,
                                                    const nlohmann::json& arguments, int timeout_ms,
                                                    const volatile std::sig_atomic_t* stop);

 private:
  explicit ControlClient(int fd) : fd_(fd) {}
  tl::expected<std::string, ClientError> read_line(int timeout_ms,
                                                   const volatile std::sig_atomic_t* stop);
  int fd_ = -1;
  std::string buffer_;
  nlohmann::json greeting_;
  std::uint64_t next_id_ = 1;
};

}  // namespace vmodem::cli
