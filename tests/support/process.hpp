// Running a shell command from a test and collecting what it printed.
#pragma once

#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace vmodem::testing {

struct ProcessOutcome {
  int exit_code;    // the command's exit status, -1 if it did not exit normally
  std::string out;  // what it wrote to stdout (binary-safe)
};

// Runs `command` through /bin/sh; append "2>&1" to collect stderr too.
inline ProcessOutcome run_shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t got = 0;
  while (pipe && (got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    out.append(buffer.data(), got);
  const int status = pipe ? ::pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace vmodem::testing
