// Subcommand registration for the vmodem binary.
//
// Each add_*_command() declares its CLI11 subcommand (options, --help text) and
// registers the function that runs when the user picked it. Exit codes follow
// ExitCode so scripts can tell a usage error from a damaged image.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace vmodem::cli {

// Exit codes shared by every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // the operation ran and failed (e.g. fsck found damage)
  kExitUsage = 2,        // bad arguments or a malformed profile
  kExitIo = 3,           // the image or a file could not be opened, read or written
  kExitCorrupt = 4,      // the image or package is damaged or of another kind
  kExitNotFound = 5,     // a named partition, file or object does not exist
  kExitUnavailable = 6,  // a facility is missing here (e.g. FUSE), or the image is in use
  kExitNoSpace = 7       // vmodem run: the host's disk cannot hold the NAND image
};

class CommandList {
 public:
  // Runs `action` when `sub` is the subcommand the user selected.
  void add(CLI::App* sub, std::function<int()> action) {
    entries_.emplace_back(sub, std::move(action));
  }

  // Runs the selected (sub)subcommand's action; returns its exit code.
  int run_selected() const {
    for (const auto& [sub, action] : entries_) {
      if (sub->parsed()) return action();
    }
    return kExitUsage;
  }

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> entries_;
};

void add_run_command(CLI::App& app, CommandList& commands);

// `vmodem at TARGET LINE...`: AT commands from a shell (at_command.cpp).
void add_at_command(CLI::App& app, CommandList& commands);

// `vmodem profiles [--json]`: the built-in profiles (profiles_command.cpp).
void add_profiles_command(CLI::App& app, CommandList& commands);

// `vmodem ctl ...`: the client of a running module's control socket, one
// subcommand per control command (ctl_command.cpp).
void add_ctl_command(CLI::App& app, CommandList& commands);

// `vmodem delta make|info|apply`: delta firmware packages (delta_command.cpp).
void add_delta_command(CLI::App& app, CommandList& commands);
// vmodem firmware build|info|stage (firmware_command.cpp).
void add_firmware_command(CLI::App& app, CommandList& commands);

// `vmodem image ...`: offline tools on a module image. The group is made by
// add_image_command(); each file adds its own leaf subcommands to it.
void add_image_command(CLI::App& app, CommandList& commands);
void add_image_nand_commands(CLI::App& image, CommandList& commands);
void add_image_debug_commands(CLI::App& image, CommandList& commands);
// ls | cat | put | get | rm | mkdir | fsck | format (image_fs_command.cpp).
void add_image_fs_commands(CLI::App& image, CommandList& commands);
// ubiformat | ubi-info | ubi-read (image_ubi_command.cpp).
void add_image_ubi_commands(CLI::App& image, CommandList& commands);

// `vmodem campaign run|replay`: power-cut campaigns over a scenario
// (campaign_command.cpp).
void add_campaign_command(CLI::App& app, CommandList& commands);

// `vmodem mount IMAGE PARTITION DIR`: a file system over FUSE (mount_command.cpp).
void add_mount_command(CLI::App& app, CommandList& commands);

}  // namespace vmodem::cli
