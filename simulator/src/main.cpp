// vmodem: one binary, one subcommand per job. Each subcommand lives in
// src/cli/<name>_command.cpp and registers itself here.
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"vmodem - a virtual Quectel cellular module (BG95/BG77/BG600L, UC20)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vmodem 0.1.0");
  vmodem::cli::CommandList commands;
  vmodem::cli::add_run_command(app, commands);
  vmodem::cli::add_image_command(app, commands);
  vmodem::cli::add_ctl_command(app, commands);
  vmodem::cli::add_delta_command(app, commands);
  vmodem::cli::add_firmware_command(app, commands);
  vmodem::cli::add_mount_command(app, commands);
  vmodem::cli::add_profiles_command(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too (exit 0); every real parse error is
    // a usage error for scripts, whatever CLI11's own code for it.
    return app.exit(e) == 0 ? vmodem::cli::kExitOk : vmodem::cli::kExitUsage;
  }
  return commands.run_selected();
}
