// vmodem run: power on a virtual module in a state directory (or, with
// --count N, N modules in <state>/<i> served by this one process).
//
// The NAND image is created ("manufactured") on first start and reused after,
// so the module keeps its files across restarts. Prints where the AT ports,
// the control socket and the log are, then serves until SIGINT/SIGTERM (or,
// with --once, until the module has booted).
#include <cstdlib>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <vmodem/fs/fuse.hpp>
#include <vmodem/simulator/control_server.hpp>
#include <vmodem/simulator/manufacture.hpp>
#include <vmodem/simulator/module.hpp>

#include "cli/commands.hpp"
#include "cli/image_clone.hpp"
#include "cli/link_reaper.hpp"
#include "cli/output.hpp"
#include "cli/state_dir.hpp"
#include "profile/identity.hpp"
#include "quecopen/boot_script.hpp"

namespace vmodem::cli {

namespace {

struct RunArgs {
  std::string profile;  // empty: the state directory's image's, else the default
  std::string state;
  std::string seed;
  std::string log_level = "info";
  bool real_time = false;
  bool uart = false;
  bool at_trace = false;
  bool once = false;
  std::string mount;
  std::size_t count = 0;  // 0: one module in the state directory; N: <state>/0 .. <state>/N-1
  std::vector<std::string> allow_net;
  std::vector<std::string> dns;  // NAME=ADDR
  std::string boot_script;       // EC2x QuecOpen: the user's script instead of the built-in sync
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
                  : port.name == "nmea"  ? "NMEA port "
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

// One module being served: its state directory, seed, module and control
// socket. Members are destroyed bottom-up: the server before the module.
struct Served {
  std::filesystem::path state;
  std::uint64_t seed = 0;
  std::unique_ptr<sim::Module> module;
  std::unique_ptr<sim::ControlServer> server;
};

// The log of one module of a fleet: its own file, and the console (warnings
// only, each line tagged with the module's index).
std::shared_ptr<spdlog::logger> fleet_logger(std::size_t index, const std::filesystem::path& file,
                                             const std::shared_ptr<spdlog::sinks::sink>& console,
                                             const std::string& level) {
  auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string());
  auto logger = std::make_shared<spdlog::logger>("module " + std::to_string(index),
                                                 spdlog::sinks_init_list{console, file_sink});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%n] [%^%l%$] %v");
  return logger;
}

// Module options shared by every way `run` starts one.
tl::expected<sim::ModuleOptions, int> module_options(const RunArgs& args,
                                                     const std::filesystem::path& state,
                                                     std::uint64_t seed, const LinkReaper& reaper,
                                                     const std::filesystem::path& mount_dir) {
  sim::ModuleOptions options;
  options.state_dir = state;
  options.seeds = sim::Seeds{seed};
  options.real_time = args.real_time;
  options.uart_port = args.uart;
  options.port_linked = [&reaper](const std::filesystem::path& link) { reaper.linked(link); };
  options.mount_dir = mount_dir;
  options.allow_net = args.allow_net;
  for (const auto& entry : args.dns) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      return tl::unexpected(report_error(kExitUsage, "--dns " + entry + ": expected NAME=ADDRESS"));
    options.hosts[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  if (args.at_trace) {
    try {
      options.trace = make_tracer(state / "at-trace.log");
    } catch (const spdlog::spdlog_ex& e) {
      return tl::unexpected(report_error(kExitIo, std::string("AT trace: ") + e.what()));
    }
  }
  return options;
}

tl::expected<Served, int> start_module(boost::asio::io_context& io, const sim::Profile& profile,
                                       sim::ModuleOptions options) {
  Served served;
  served.state = options.state_dir;
  served.seed = options.seeds.run;
  auto cause = nand::Errc::bad_image;
  auto module = sim::Module::create(io, profile, std::move(options), &cause);
  if (!module) {
    return tl::unexpected(
        report_error(cause == nand::Errc::no_space ? kExitNoSpace : kExitCorrupt, module.error()));
  }
  served.module = std::move(*module);
  sim::ControlServerOptions control;
  control.socket_path = served.state / "control.sock";
  control.version = "0.1.0";
  control.model = profile.identity.model;
  auto server = sim::ControlServer::start(io.get_executor(), *served.module, control);
  if (!server) return tl::unexpected(report_error(kExitIo, "control socket: " + server.error()));
  served.server = std::move(*server);
  return served;
}

// The template every module of a fleet is cloned from: an image through its
// first power-on (manufactured: firmware, file systems with their factory
// files, production-line backups), made once in <root>/template and kept.
tl::expected<std::filesystem::path, int> manufactured_template(const sim::Profile& profile,
                                                               const std::filesystem::path& root,
                                                               std::uint64_t seed) {
  const auto dir = root / "template";
  const auto image = dir / "nand.img";
  std::error_code ec;
  if (std::filesystem::exists(image, ec)) return image;
  auto prepared = prepare_state_dir(dir);
  if (!prepared) return tl::unexpected(report_error(kExitIo, prepared.error()));
  auto made = sim::manufacture_image(profile, image, sim::Seeds{seed}, nullptr);
  if (!made) {
    return tl::unexpected(report_error(manufacture_exit_code(made.error().kind),
                                       "the template image: " + made.error().message));
  }
  spdlog::info("manufactured the template image {}", image.string());
  return image;
}

struct Fleet {
  std::filesystem::path root;
  std::uint64_t base_seed = 0;
  std::vector<Served> modules;
};

// `run --count N`: module i in <root>/<i>, seed base+i, its own log, ports
// and control socket; a module without an image starts from a clone of the
// template.
tl::expected<void, int> start_fleet(boost::asio::io_context& io, const RunArgs& args,
                                    const sim::Profile& profile, const LinkReaper& reaper,
                                    Fleet& fleet) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(spdlog::level::warn);
  std::vector<std::vector<std::string>> notes;  // each state directory's, for its log
  std::vector<std::filesystem::path> clones;    // images to make from the template
  for (std::size_t i = 0; i < args.count; ++i) {
    const auto state = fleet.root / std::to_string(i);
    auto prepared = prepare_state_dir(state);
    if (!prepared) return tl::unexpected(report_error(kExitIo, prepared.error()));
    notes.push_back(std::move(*prepared));
    std::error_code ec;
    if (!std::filesystem::exists(state / "nand.img", ec)) clones.push_back(state / "nand.img");
  }
  if (!clones.empty()) {
    auto made = manufactured_template(profile, fleet.root, fleet.base_seed);
    if (!made) return tl::unexpected(made.error());
    if (auto cloned = clone_images(*made, clones, std::thread::hardware_concurrency()); !cloned)
      return tl::unexpected(report_error(kExitIo, cloned.error()));
  }
  for (std::size_t i = 0; i < args.count; ++i) {
    const auto state = fleet.root / std::to_string(i);
    const auto mount = args.mount.empty() ? std::filesystem::path()
                                          : std::filesystem::path(args.mount) / std::to_string(i);
    auto options = module_options(args, state, fleet.base_seed + i, reaper, mount);
    if (!options) return tl::unexpected(options.error());
    try {
      options->log = fleet_logger(i, state / "vmodem.log", console, args.log_level);
    } catch (const spdlog::spdlog_ex& e) {
      return tl::unexpected(report_error(kExitIo, std::string("log file: ") + e.what()));
    }
    for (const auto& note : notes[i])
      options->log->warn("{}", note);
    sim::Profile own = profile;  // its own IMEI, IMSI and ICCID
    own.identity = sim::fleet_identity(profile.identity, i);
    auto served = start_module(io, own, std::move(*options));
    if (!served) return tl::unexpected(served.error());
    fleet.modules.push_back(std::move(*served));
  }
  return {};
}

void print_fleet_banner(const Fleet& fleet, const sim::Profile& profile, const RunArgs& args) {
  std::cout << "vmodem: " << fleet.modules.size() << " x " << profile.identity.model << " ("
            << profile.name << ") powering on in " << fleet.root.string() << "\n"
            << "  module i  : " << (fleet.root / "<i>").string()
            << " (ports ttyUSB2/ttyUSB3, control.sock, vmodem.log), seed " << fleet.base_seed
            << "+i\n"
            << "  template  : " << (fleet.root / "template" / "nand.img").string() << "\n"
            << "  timing    : " << (args.real_time ? "real time (like a module)" : "fast") << "\n";
  for (const auto& served : fleet.modules) {
    std::cout << "  [" << served.state.filename().string() << "] "
              << (served.state / "ttyUSB2").string() << "  seed " << served.seed << "  IMEI "
              << served.module->profile().identity.imei << "\n";
  }
  std::cout << std::flush;
}

// Serves every module until SIGINT/SIGTERM, or with --once until all have
// booted (then powers them off). Returns the exit code.
// `started`: when the command began (the fleet's figure counts manufacture
// and cloning too).
int serve(boost::asio::io_context& io, std::vector<Served>& modules, const RunArgs& args,
          std::chrono::steady_clock::time_point started) {
  int exit_code = kExitOk;
  auto stop = [&] {
    for (auto& served : modules) {
      served.module->shutdown();
      served.server->stop();
    }
    io.stop();
  };
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) spdlog::info("stopping");
    stop();
  });
  // Every module says when it reaches APP RDY (the typed power listener):
  // the fleet reports when the last one has, and --once stops there.
  std::size_t booted = 0;
  std::vector<bool> counted(modules.size(), false);
  for (std::size_t i = 0; i < modules.size(); ++i) {
    modules[i].module->on_power_state([&, i](sim::PowerState state) {
      if (state != sim::PowerState::app_rdy || counted[i]) return;
      counted[i] = true;
      if (++booted < modules.size()) return;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      // One module says "booted in N ms" itself; a fleet's total is news.
      if (modules.size() > 1) {
        spdlog::info("all {} modules APP RDY {} ms after the start", modules.size(), ms);
        std::cout << "all " << modules.size() << " modules APP RDY " << ms
                  << " ms after the start\n"
                  << std::flush;
      }
      if (args.once) boost::asio::post(io, stop);
    });
  }
  boost::asio::steady_timer deadline(io);
  if (args.once) {
    // Long enough for a fleet booting one after another on one thread.
    const auto per_module = std::chrono::seconds(args.real_time ? 60 : 10);
    deadline.expires_after(per_module *
                           static_cast<int>(std::max<std::size_t>(1, modules.size() / 10)));
    deadline.async_wait([&](const boost::system::error_code& error) {
      if (error) return;
      exit_code = report_error(kExitFailure, "the module did not finish booting (see the log)");
      stop();
    });
  }
  for (auto& served : modules)
    (void)served.module->power_on();
  io.run();
  spdlog::info("powered off");
  return exit_code;
}

// The profile to run: --profile, else the one the state directory's image
// keeps (the first module's, with --count), else the default.
tl::expected<sim::Profile, int> run_profile(const RunArgs& args) {
  if (!args.profile.empty() || args.state.empty()) {
    return load_profile_or_report(args.profile.empty() ? sim::kDefaultProfile : args.profile);
  }
  const std::filesystem::path state(args.state);
  const auto image = args.count > 0 ? state / "0" / "nand.img" : state / "nand.img";
  std::error_code ec;
  if (!std::filesystem::exists(image, ec)) return load_profile_or_report(sim::kDefaultProfile);
  return image_profile_or_report(image, "");
}

// --boot-script: the profile's app_sync.boot_script, once the script and
// this machine are fit to run it.
int set_boot_script(sim::Profile& profile, const std::string& script) {
  if (profile.family != sim::Family::ec2x_quecopen) {
    return report_error(kExitUsage, "--boot-script: profile " + profile.name +
                                        " runs no boot script (EC2x QuecOpen profiles do: ec25, "
                                        "eg25-g)");
  }
  std::error_code ec;
  const auto path = std::filesystem::absolute(script, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec))
    return report_error(kExitNotFound, "--boot-script: " + script + ": not a regular file");
  std::string why;
  if (!sim::quecopen::BootScript::available(&why))
    return report_error(kExitUnavailable, "--boot-script: cannot run boot scripts here: " + why);
  profile.app_sync.boot_script = path.string();
  return kExitOk;
}

int run(const RunArgs& args) {
  const auto started = std::chrono::steady_clock::now();
  auto profile = run_profile(args);
  if (!profile) return profile.error();
  const auto state =
      args.state.empty() ? default_state_dir(profile->name) : std::filesystem::path(args.state);
  if (spdlog::level::from_str(args.log_level) == spdlog::level::off && args.log_level != "off") {
    return report_error(kExitUsage, "--log-level: expected trace, debug, info, warn, error or off");
  }
  std::uint64_t seed = sim::Seeds::from_entropy().run;
  if (!args.seed.empty()) {
    auto parsed = parse_seed(args.seed);
    if (!parsed)
      return report_error(kExitUsage, "--seed: expected a number, got '" + args.seed + "'");
    seed = *parsed;
  }
  if (!args.boot_script.empty()) {
    if (auto set = set_boot_script(*profile, args.boot_script); set != kExitOk) return set;
  }
  if (!args.mount.empty()) {
    std::string why;
    if (!fs::fuse_available(&why))
      return report_error(kExitUnavailable, "--mount: FUSE is not available here: " + why);
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

  boost::asio::io_context io;
  std::vector<Served> modules;
  if (args.count > 0) {
    Fleet fleet{state, seed, {}};
    spdlog::info("vmodem {} x {} profile {} state {} seed {}+i", args.count,
                 profile->identity.model, profile->name, state.string(), seed);
    if (auto up = start_fleet(io, args, *profile, *reaper, fleet); !up) return up.error();
    print_fleet_banner(fleet, *profile, args);
    modules = std::move(fleet.modules);
  } else {
    auto options = module_options(args, state, seed, *reaper, args.mount);
    if (!options) return options.error();
    spdlog::info("vmodem {} profile {} state {} seed {}", profile->identity.model, profile->name,
                 state.string(), seed);
    auto served = start_module(io, *profile, std::move(*options));
    if (!served) return served.error();
    print_banner(*served->module, state, served->state / "control.sock", seed, args);
    modules.push_back(std::move(*served));
  }
  return serve(io, modules, args, started);
}

}  // namespace

void add_run_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Power on a virtual module (default: BG95-M3 in ~/.local/state/vmodem)");
  cmd->add_option("--profile,-p", args->profile,
                  "Profile name or JSON file (default: the one the state directory's image was "
                  "made for, else bg95-m3)");
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
                  "Mount the AP FS at DIR/ufs and the modem FS at DIR/efs (FUSE) while APP RDY "
                  "(with --count: DIR/<i>/ufs, ...)");
  cmd->add_option("--count,-n", args->count,
                  "Serve N modules from this process: module i in <state>/<i> with its own "
                  "ports, control socket, log and seed (the seed + i); new ones are cloned "
                  "from a manufactured template image")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--allow-net", args->allow_net,
                  "Let the module's sockets (AT+QIOPEN) reach this network or address too "
                  "(default: loopback only, 127.0.0.0/8 and ::1); repeatable");
  cmd->add_option("--dns", args->dns,
                  "NAME=ADDRESS: a name the module resolves (AT+QIOPEN, AT+QIDNSGIP); "
                  "\"localhost\" is always known; repeatable");
  cmd->add_option("--boot-script", args->boot_script,
                  "EC2x QuecOpen: run this /bin/sh script at every boot (and by ctl app-sync) "
                  "instead of the built-in application sync, against the module's partitions "
                  "(needs root and FUSE; README \"Your own boot script\")");
  commands.add(cmd, [args] { return run(*args); });
}

}  // namespace vmodem::cli
