// vmodem: one binary, one subcommand per job. Each subcommand lives in
// src/cli/<name>_command.cpp and registers itself here.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

namespace {

bool is_command(const CLI::App& app, const std::string& name) {
  const auto subs = app.get_subcommands({});
  return std::any_of(subs.begin(), subs.end(),
                     [&](const CLI::App* sub) { return sub->get_name() == name; });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vmodem - a virtual Quectel cellular module (BG95/BG77/BG600L, UC20)", "vmodem"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vmodem 0.1.0");
  vmodem::cli::CommandList commands;
  vmodem::cli::add_run_command(app, commands);
  vmodem::cli::add_image_command(app, commands);
  vmodem::cli::add_ctl_command(app, commands);
  vmodem::cli::add_at_command(app, commands);
  vmodem::cli::add_delta_command(app, commands);
  vmodem::cli::add_firmware_command(app, commands);
  vmodem::cli::add_mount_command(app, commands);
  vmodem::cli::add_profiles_command(app, commands);
  vmodem::cli::add_campaign_command(app, commands);
  // `vmodem` alone shows what there is; `vmodem help [COMMAND]` is --help;
  // an unknown command is named, with the ones there are.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cout << app.help();
    return vmodem::cli::kExitUsage;
  }
  if (args.front() == "help") {
    args.erase(args.begin());
    args.emplace_back("--help");
  } else if (args.front().front() != '-' && !is_command(app, args.front())) {
    std::string known;
    for (const auto* sub : app.get_subcommands({}))
      known += (known.empty() ? "" : ", ") + sub->get_name();
    std::cerr << "vmodem: unknown command '" << args.front() << "'; the commands are " << known
              << " (vmodem --help)\n";
    return vmodem::cli::kExitUsage;
  }
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too (exit 0); every real parse error is
    // a usage error for scripts, whatever CLI11's own code for it.
    return app.exit(e) == 0 ? vmodem::cli::kExitOk : vmodem::cli::kExitUsage;
  }
  return commands.run_selected();
}
