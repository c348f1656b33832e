// vmodem run: power on a virtual module in a state directory.
//
// The NAND image is created ("manufactured") on first start and reused after,
// so the module keeps its files across restarts. Prints where the AT ports,
// the control socket and the log are, then serves until SIGINT/SIGTERM (or,
// with --once, until the module has booted).
#include <cstdlib>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <vmodem/fs/fuse.hpp>
#include <vmodem/simulator/control_server.hpp>
#include <vmodem/simulator/module.hpp>

#include "cli/commands.hpp"
#include "cli/link_reaper.hpp"
#include "cli/output.hpp"
#include "cli/state_dir.hpp"

namespace vmodem::cli {

namespace {

struct RunArgs {
  std::string profile = sim::kDefaultProfile;
  std::string state;
  std::string seed;
  std::string log_level = "info";
  bool real_time = false;
  bool uart = false;
  bool at_trace = false;
  bool once = false;
  std::string mount;
};

void setup_logging(const std::filesystem::path& log_file, const std::string& level) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string());
  auto logger = std::make_shared<spdlog::logger>("vmodem", spdlog::sinks_init_list{console, file});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
}

// Every byte in and out of every port, one line per chunk with the port, the
// direction and a timestamp; bytes that are not printable shown as \xNN.
std::function<void(const std::string&, at::TraceDirection, std::span<const std::uint8_t>)>
make_tracer(const std::filesystem::path& path) {
  auto file = std::make_shared<spdlog::logger>(
      "at-trace", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string()));
  file->set_pattern("%Y-%m-%d %H:%M:%S.%f %v");
  file->flush_on(spdlog::level::info);
  return [file](const std::string& port, at::TraceDirection direction,
                std::span<const std::uint8_t> bytes) {
    std::string text;
    for (const std::uint8_t b : bytes) {
      if (b >= 0x20 && b < 0x7F && b != '\\') {
        text += static_cast<char>(b);
      } else {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", b);
        text += escaped;
      }
    }
    file->info("{} {} {}", port, direction == at::TraceDirection::kFromHost ? "<-" : "->", text);
  };
}

void print_banner(const sim::Module& module, const std::filesystem::path& state,
                  const std::filesystem::path& socket, std::uint64_t seed, const RunArgs& args) {
  const auto& p = module.profile();
  std::cout << "vmodem: " << p.identity.model << " (" << p.name << ", " << p.identity.revision
            << ") powering on\n";
  for (const auto& port : module.ports()) {
    std::cout << "  "
              << (port.name == "at"      ? "AT port   "
                  : port.name == "modem" ? "modem port"
                                         : "UART port ")
              << ": " << port.link.string() << (port.usb ? "" : " (UART-style: survives resets)")
              << "\n";
  }
  std::cout << "  control   : " << socket.string() << "\n"
            << "  log file  : " << (state / "vmodem.log").string() << "\n";
  if (args.at_trace) std::cout << "  AT trace  : " << (state / "at-trace.log").string() << "\n";
  std::cout << "  seed      : " << seed << " (replay with --seed " << seed << ")\n"
            << "  timing    : " << (args.real_time ? "real time (like a module)" : "fast") << "\n"
            << std::flush;
}

int run(const RunArgs& args) {
  auto profile = load_profile_or_report(args.profile);
  if (!profile) return profile.error();
  const auto state =
      args.state.empty() ? default_state_dir(profile->name) : std::filesystem::path(args.state);
  if (spdlog::level::from_str(args.log_level) == spdlog::level::off && args.log_level != "off") {
    return report_error(kExitUsage, "--log-level: expected trace, debug, info, warn, error or off");
  }
  // Whatever the daemon creates (image, logs, trace, snapshots, sockets) is
  // for this user only: the image holds the module's secrets.
  ::umask(077);
  auto prepared = prepare_state_dir(state);
  if (!prepared) return report_error(kExitIo, prepared.error());
  // Forked while the process has one thread and holds no lock or PTY.
  auto reaper = LinkReaper::start(state);
  if (!reaper) return report_error(kExitIo, "port link reaper: " + reaper.error());
  try {
    setup_logging(state / "vmodem.log", args.log_level);
  } catch (const spdlog::spdlog_ex& e) {
    return report_error(kExitIo, std::string("log file: ") + e.what());
  }
  for (const auto& note : *prepared)
    spdlog::warn("{}", note);

  sim::ModuleOptions options;
  options.state_dir = state;
  options.seeds = sim::Seeds::from_entropy();
  if (!args.seed.empty()) {
    auto seed = parse_seed(args.seed);
    if (!seed)
      return report_error(kExitUsage, "--seed: expected a number, got '" + args.seed + "'");
    options.seeds.run = *seed;
  }
  options.real_time = args.real_time;
  options.uart_port = args.uart;
  options.port_linked = [&reaper = *reaper](const std::filesystem::path& link) {
    reaper.linked(link);
  };
  if (!args.mount.empty()) {
    std::string why;
    if (!fs::fuse_available(&why))
      return report_error(kExitUnavailable, "--mount: FUSE is not available here: " + why);
    options.mount_dir = args.mount;
  }
  if (args.at_trace) {
    try {
      options.trace = make_tracer(state / "at-trace.log");
    } catch (const spdlog::spdlog_ex& e) {
      return report_error(kExitIo, std::string("AT trace: ") + e.what());
    }
  }
  spdlog::info("vmodem {} profile {} state {} seed {}", profile->identity.model, profile->name,
               state.string(), options.seeds.run);

  boost::asio::io_context io;
  auto cause = nand::Errc::bad_image;
  auto module = sim::Module::create(io, *profile, options, &cause);
  if (!module)
    return report_error(cause == nand::Errc::no_space ? kExitNoSpace : kExitCorrupt,
                        module.error());
  sim::ControlServerOptions control;
  control.socket_path = state / "control.sock";
  control.version = "0.1.0";
  control.model = profile->identity.model;
  auto server = sim::ControlServer::start(io.get_executor(), **module, control);
  if (!server) return report_error(kExitIo, "control socket: " + server.error());

  print_banner(**module, state, control.socket_path, options.seeds.run, args);
  (void)(*module)->power_on();

  int exit_code = kExitOk;
  auto stop = [&] {
    (*module)->shutdown();
    (*server)->stop();
    io.stop();
  };
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) spdlog::info("stopping");
    stop();
  });
  // --once: wait for the boot to finish (APP RDY, or RDY on firmware that
  // never says APP RDY), then power off and exit.
  boost::asio::steady_timer poll(io);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(args.real_time ? 60 : 10);
  std::function<void()> wait_booted = [&] {
    const bool booted = (*module)->power_state() == sim::PowerState::app_rdy;
    if (booted || std::chrono::steady_clock::now() > deadline) {
      if (!booted)
        exit_code = report_error(kExitFailure, "the module did not finish booting (see the log)");
      stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(5));
    poll.async_wait([&](const boost::system::error_code& error) {
      if (!error) wait_booted();
    });
  };
  if (args.once) wait_booted();
  io.run();
  spdlog::info("powered off");
  return exit_code;
}

}  // namespace

void add_run_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Power on a virtual module (default: BG95-M3 in ~/.local/state/vmodem)");
  cmd->add_option("--profile,-p", args->profile, "Profile name or JSON file")
      ->capture_default_str();
  cmd->add_option("--state,-s", args->state,
                  "State directory (NAND image, ports, control socket, log)");
  cmd->add_option("--seed", args->seed, "Seed for every random choice (random if omitted; logged)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  cmd->add_flag("--real-time", args->real_time,
                "Boot timings and NAND speed of a real module (default: fast)");
  cmd->add_flag("--uart", args->uart,
                "Also serve a UART-style port (ttyS0) that stays open across resets");
  cmd->add_flag("--at-trace", args->at_trace,
                "Log every byte on every port to <state>/at-trace.log");
  cmd->add_flag("--once", args->once, "Boot, wait for APP RDY, power off and exit (smoke test)");
  cmd->add_option("--mount", args->mount,
                  "Mount the AP FS at DIR/ufs and the modem FS at DIR/efs (FUSE) while APP RDY");
  commands.add(cmd, [args] { return run(*args); });
}

}  // namespace vmodem::cli
