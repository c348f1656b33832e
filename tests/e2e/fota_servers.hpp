// Real servers on loopback for the AT+QFOTADL end-to-end tests: pyftpdlib
// (FTP), nginx (HTTP) and a script for the misbehaving cases (closing
// mid-transfer, never answering). Each runs as a child process on a free
// port and is stopped (only that process) at destruction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "temp_dir.hpp"

namespace vmodem::e2e {

// A port on 127.0.0.1 nobody listened on a moment ago.
std::uint16_t free_port();

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Why the server could not run (a missing binary or module), empty if it
  // runs: tests skip on this.
  const std::string& unavailable() const { return unavailable_; }
  std::uint16_t port() const { return port_; }
  std::string log() const;  // what the server printed

 protected:
  // Spawns argv, then waits until the port accepts connections.
  void launch(std::vector<std::string> argv, std::uint16_t port);
  void set_unavailable(std::string why) { unavailable_ = std::move(why); }
  vmodem::testing::TempDir dir_;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string unavailable_;
};

// pyftpdlib serving `root` read-only to one user (through
// fota_test_server.py, which makes it answer a bad login at once).
class FtpServer : public ServerProcess {
 public:
  FtpServer(const std::filesystem::path& root, const std::string& user,
            const std::string& password);
};

// nginx serving the files of `root`.
class HttpServer : public ServerProcess {
 public:
  explicit HttpServer(const std::filesystem::path& root);
};

// tests/e2e/fota_test_server.py in `mode` ("http-close-mid", "ftp-close-mid",
// "http-trickle", "silent") with its extra arguments.
class ScriptServer : public ServerProcess {
 public:
  ScriptServer(const std::string& mode, std::vector<std::string> args = {});
};

}  // namespace vmodem::e2e
