// Running the real vmodem binary (and shell tools) from a test.
#pragma once

#include <filesystem>
#include <string>

#include "process.hpp"

namespace vmodem::fscli {

// exit_code and out (stdout, stderr too unless split).
using Outcome = vmodem::testing::ProcessOutcome;

// `vmodem <args>`; stderr joins stdout unless `stderr_too` is false.
Outcome vmodem(const std::string& args, bool stderr_too = true);
// Any shell command line.
Outcome shell(const std::string& command);

// A fresh module image made the way users make one: `vmodem run --once`
// manufactures it and formats both file systems with their factory files.
std::filesystem::path make_image(const std::filesystem::path& state);

// True once `dir` is a mount point (its device differs from its parent's).
bool wait_mounted(const std::filesystem::path& dir, bool mounted = true);

std::string read_host_file(const std::filesystem::path& path);
void write_host_file(const std::filesystem::path& path, const std::string& data);

}  // namespace vmodem::fscli
