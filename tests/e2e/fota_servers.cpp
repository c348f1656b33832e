#include "fota_servers.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_support.hpp"
#include "process.hpp"

extern char** environ;

namespace vmodem::e2e {

namespace {

using namespace std::chrono_literals;

// The system interpreter: it has python3-pyftpdlib (a pyenv one may not).
constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kNginx = "/usr/sbin/nginx";

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in address = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopback(0);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string ServerProcess::log() const {
  std::ifstream in(dir_.path() / "server.out");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void ServerProcess::launch(std::vector<std::string> args, std::uint16_t port) {
  if (::access(args[0].c_str(), X_OK) != 0) return set_unavailable(args[0] + " is not installed");
  pid_ = spawn_logged(std::move(args), dir_.path() / "server.out");
  if (pid_ <= 0) return set_unavailable("cannot start " + args[0]);
  port_ = port;
  for (int i = 0; i < 500; ++i) {
    if (accepts(port)) return;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return set_unavailable(args[0] + " exited: " + log());
    }
    std::this_thread::sleep_for(10ms);
  }
  set_unavailable(args[0] + " did not listen on port " + std::to_string(port) + ": " + log());
}

FtpServer::FtpServer(const std::filesystem::path& root, const std::string& user,
                     const std::string& password) {
  const std::string check = std::string(kPython) + " -c 'import pyftpdlib' 2>&1";
  if (vmodem::testing::run_shell(check).exit_code != 0) {
    set_unavailable("python3-pyftpdlib is not installed");
    return;
  }
  const std::uint16_t port = free_port();
  launch({kPython, VMODEM_FOTA_TEST_SERVER, "pyftpdlib", std::to_string(port), root.string(), user,
          password},
         port);
}

HttpServer::HttpServer(const std::filesystem::path& root) {
  const std::uint16_t port = free_port();
  const auto prefix = dir_.path();
  const std::string p = prefix.string();
  std::ofstream(prefix / "nginx.conf")
      << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      << "pid " << p << "/nginx.pid;\nerror_log " << p << "/error.log;\n"
      << "events { worker_connections 64; }\n"
      << "http {\n  access_log off;\n  client_body_temp_path " << p << "/body;\n"
      << "  proxy_temp_path " << p << "/proxy;\n  fastcgi_temp_path " << p << "/fastcgi;\n"
      << "  uwsgi_temp_path " << p << "/uwsgi;\n  scgi_temp_path " << p << "/scgi;\n"
      << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << root.string()
      << ";\n  }\n}\n";
  // -e: the error log from the start (before the config is read).
  launch({kNginx, "-p", p, "-e", p + "/error.log", "-c", p + "/nginx.conf"}, port);
}

ScriptServer::ScriptServer(const std::string& mode, std::vector<std::string> args) {
  const std::uint16_t port = free_port();
  std::vector<std::string> argv = {kPython, VMODEM_FOTA_TEST_SERVER, mode, std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  launch(std::move(argv), port);
}

}  // namespace vmodem::e2e
