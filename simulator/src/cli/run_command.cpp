// vmodem run: power on a virtual module in a state directory.
//
// The NAND image is created ("manufactured") on first start and reused after,
// so the module keeps its flash across restarts. The AT ports and control
// socket attach here as the AT engine lands (see README "Status").
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

struct RunArgs {
  std::string profile = sim::kDefaultProfile;
  std::string state;
  std::string seed;
  std::string log_level = "info";
  bool real_time = false;
  bool once = false;
};

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::filesystem::path default_state_dir(const std::string& profile) {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "vmodem" / profile;
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".local" / "state" / "vmodem" / profile;
  }
  return std::filesystem::temp_directory_path() / "vmodem" / profile;
}

void setup_logging(const std::filesystem::path& log_file, const std::string& level) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string());
  auto logger = std::make_shared<spdlog::logger>("vmodem", spdlog::sinks_init_list{console, file});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
}

int run(const RunArgs& args) {
  auto profile = load_profile_or_report(args.profile);
  if (!profile) return profile.error();
  const auto state =
      args.state.empty() ? default_state_dir(profile->name) : std::filesystem::path(args.state);
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (ec)
    return report_error(kExitIo,
                        "cannot create state directory " + state.string() + ": " + ec.message());
  if (spdlog::level::from_str(args.log_level) == spdlog::level::off && args.log_level != "off") {
    return report_error(kExitUsage, "--log-level: expected trace, debug, info, warn, error or off");
  }
  setup_logging(state / "vmodem.log", args.log_level);

  sim::Seeds seeds = sim::Seeds::from_entropy();
  if (!args.seed.empty()) {
    auto seed = parse_seed(args.seed);
    if (!seed)
      return report_error(kExitUsage, "--seed: expected a number, got '" + args.seed + "'");
    seeds.run = *seed;
  }
  spdlog::info("vmodem {} profile {} state {} seed {}", profile->identity.model, profile->name,
               state.string(), seeds.run);

  const auto image = state / "nand.img";
  auto flash = sim::Flash::open(*profile, image, sim::Flash::Mode::open_or_create, seeds);
  if (!flash) return report_error(kExitCorrupt, flash.error());
  if ((*flash)->created()) {
    spdlog::info("manufactured new NAND image {} ({} factory bad blocks)", image.string(),
                 (*flash)->factory_bad_blocks().size());
  } else {
    spdlog::info("opened NAND image {}", image.string());
  }
  (*flash)->chip().set_real_time_pacing(args.real_time);

  std::cout << "vmodem: " << profile->identity.model << " (" << profile->name << ") powered on\n"
            << "  state dir : " << state.string() << "\n"
            << "  NAND image: " << image.string() << "\n"
            << "  log file  : " << (state / "vmodem.log").string() << "\n"
            << "  seed      : " << seeds.run << " (replay with --seed " << seeds.run << ")\n"
            << "  AT port   : not yet available in this build (the AT engine is in progress)\n"
            << std::flush;
  if (args.once) return kExitOk;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (auto synced = (*flash)->storage().sync(); !synced)
    spdlog::warn("sync: {}", synced.error().message());
  spdlog::info("powered off");
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Power on a virtual module (default: BG95-M3 in ~/.local/state/vmodem)");
  cmd->add_option("--profile,-p", args->profile, "Profile name or JSON file")
      ->capture_default_str();
  cmd->add_option("--state,-s", args->state, "State directory (NAND image, ports, socket, log)");
  cmd->add_option("--seed", args->seed, "Seed for every random choice (random if omitted; logged)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  cmd->add_flag("--real-time", args->real_time,
                "Pace NAND operations at datasheet speed (looks like a module)");
  cmd->add_flag("--once", args->once, "Power on, print the ports and exit (smoke test)");
  commands.add(cmd, [args] { return run(*args); });
}

}  // namespace vmodem::cli
