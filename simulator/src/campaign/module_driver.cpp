#include "campaign/module_driver.hpp"

#include <chrono>
#include <csignal>
#include <fstream>

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/logger.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmodem::sim::campaign {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Handlers run per settle round before the driver looks at the port again:
// a boot is a handful of zero-delay timers; a runaway chain of posts must
// not hang the campaign (the step's timeout ends it).
constexpr std::size_t kSettleBudget = 4096;
// Far longer than a fast-mode boot (a few ms): only a boot that hangs
// reaches it.
constexpr auto kBootDeadline = std::chrono::seconds(30);

// The lines of `text`, CR LF framing and empty lines dropped.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  for (const char c : text) {
    if (c == '\r' || c == '\n') {
      if (!line.empty()) out.push_back(std::move(line));
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) out.push_back(std::move(line));
  return out;
}

bool is_final(const std::string& line) {
  return line == "OK" || line == "ERROR" || line == "NO CARRIER" ||
         line.starts_with("+CME ERROR:") || line.starts_with("+CMS ERROR:");
}

// The port asks for data: CONNECT, or a "> " prompt (which has no line end).
bool asks_for_data(const std::string& output) {
  return output.find("CONNECT\r\n") != std::string::npos || output.ends_with("> ");
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += (out.empty() ? "" : " | ") + line;
  return out;
}

}  // namespace

std::string StepResult::describe(const AtStep& step) const {
  switch (kind) {
    case Kind::ok:
      return step.label() + ": ok";
    case Kind::mismatch:
      if (step.kind == AtStep::Kind::host) return step.label() + ": " + answer;
      return step.label() + ": expected \"" + step.expect + "\", got \"" + answer + "\"";
    case Kind::timeout:
      if (step.kind == AtStep::Kind::host) {
        return step.label() + ": killed at its timeout of " + std::to_string(step.timeout_ms) +
               " ms" + (answer.empty() ? "" : " (" + answer + ")");
      }
      return step.label() + ": no " + (step.kind == AtStep::Kind::wait_urc ? "URC" : "answer") +
             " within " + std::to_string(step.timeout_ms) + " ms" +
             (answer.empty() ? "" : " (got \"" + answer + "\")");
    case Kind::power_lost:
      return step.label() + ": the power went";
  }
  return step.label();
}

tl::expected<std::unique_ptr<ModuleDriver>, std::string> ModuleDriver::create(
    Profile profile, std::uint64_t seed, const std::filesystem::path& image,
    const std::filesystem::path& state_dir) {
  // Every boot delay zero: a boot is a few zero-delay timers, polled.
  profile.boot.fast_mode_divisor = 1'000'000;
  std::unique_ptr<ModuleDriver> d(new ModuleDriver(std::move(profile), seed));
  d->state_dir_ = state_dir;
  // One thread (the caller's): a branch boots the verifier from inside a
  // NAND operation of this module's run.
  auto flash = Flash::in_memory(d->profile_, Seeds{seed}, Flash::Threads::one);
  if (!flash) return tl::unexpected(flash.error());
  if (auto made = d->make_module(std::move(*flash), false); !made)
    return tl::unexpected(made.error());
  if (!state_dir.empty()) {
    ControlServerOptions control;
    control.socket_path = state_dir / "control.sock";
    control.model = d->profile_.name;
    auto started = ControlServer::start(d->io_.get_executor(), *d->module_, control);
    if (!started) return tl::unexpected(started.error());
    d->control_ = std::move(*started);
  }
  // The production line: the first boot formats, installs the factory
  // files and backs them up.
  Transcript ignored;
  if (!d->power_on(ignored).complete)
    return tl::unexpected(std::string("the module did not come up at its first power-on"));
  d->power_off();
  if (image.empty()) return d;
  std::optional<Controlled<SnapshotDone>> loaded;
  d->module_->snapshot_load(image.string(), [&](const Controlled<SnapshotDone>& r) { loaded = r; });
  while (!loaded) {
    if (d->io_.stopped()) d->io_.restart();
    d->io_.run_one_for(std::chrono::milliseconds(10));
  }
  if (!*loaded) return tl::unexpected(image.string() + ": " + loaded->error().desc);
  return d;
}

tl::expected<void, std::string> ModuleDriver::make_module(std::shared_ptr<Flash> flash,
                                                          bool factory_booted) {
  ModuleOptions options;
  options.ports = !state_dir_.empty();
  options.state_dir = state_dir_;
  options.flash = std::move(flash);
  options.factory_booted = factory_booted;
  options.seeds = Seeds{seed_};
  // A logger with no sink: thousands of boots would drown a terminal.
  options.log = std::make_shared<spdlog::logger>("campaign");
  auto created = Module::create(io_, profile_, options);
  if (!created) return tl::unexpected(created.error());
  module_ = std::move(*created);
  module_->subscribe([this](const json& event) { on_event(event); });
  return {};
}

tl::expected<void, std::string> ModuleDriver::add_verifier() {
  if (verifier_) return {};
  std::unique_ptr<ModuleDriver> v(new ModuleDriver(profile_, seed_));  // no ports
  // The flash this module's first power-on manufactured: never formatted again.
  if (auto made = v->make_module(module_->shared_flash(), true); !made)
    return tl::unexpected("the verifying module: " + made.error());
  verifier_ = std::move(v);
  module_->take_fault_listener();
  return {};
}

void ModuleDriver::hear_faults(Transcript& transcript) {
  module_->take_fault_listener();
  transcript_ = &transcript;
  fault_.reset();
}

ModuleDriver::~ModuleDriver() {
  verifier_.reset();
  control_.reset();  // its timers and sockets before the io_context
  engine_.reset();
  if (module_ && module_->power_state() != PowerState::off) (void)module_->power_cut({});
  settle();
  module_.reset();
}

void ModuleDriver::on_event(const json& event) {
  // Read in place: a campaign hears every event of thousands of boots.
  const auto named = event.find("event");
  const auto with = event.find("data");
  if (named == event.end() || !named->is_string() || with == event.end()) return;
  const std::string& name = named->get_ref<const std::string&>();
  const json& data = *with;
  if (name == "URC") {
    const std::string text = data.value("text", "");
    urcs_.push_back(text);
    if (transcript_) transcript_->push_back("urc: " + text);
  } else if (name == "NAND_FAULT" && data.value("effect", "") == "power_cut") {
    fault_ = data;
    if (transcript_) {
      transcript_->push_back("-- power cut: " + data.value("op", std::string()) + " block " +
                             std::to_string(data.value("block", 0U)) + " page " +
                             std::to_string(data.value("page", 0U)) + " (" +
                             data.value("cut", std::string()) + ")");
    }
  } else if (name == "RESTORE" || name == "FS_REBUILT" || name == "BOOT_FAILED") {
    if (transcript_) transcript_->push_back("-- " + name + " " + data.dump());
    if (boot_) {
      boot_->events.push_back(name + " " + data.dump());
      if (name == "RESTORE") boot_->restores.push_back(data);
      if (name == "FS_REBUILT") boot_->rebuilds.push_back(data);
    }
  }
}

void ModuleDriver::settle() {
  for (std::size_t ran = 0; ran < kSettleBudget;) {
    // An io_context that ran out of work stays stopped until restarted.
    if (io_.stopped()) io_.restart();
    const std::size_t n = io_.poll();
    if (n == 0) return;
    ran += n;
  }
}

void ModuleDriver::wait_a_little() {
  settle();
  if (io_.stopped()) io_.restart();
  io_.run_one_for(std::chrono::milliseconds(1));
}

void ModuleDriver::new_engine() {
  engine_ = std::make_unique<at::Engine>(module_->registry(), at::EngineConfig{});
  engine_->settings().echo = false;
}

BootReport ModuleDriver::power_on(Transcript& transcript) {
  BootReport report;
  transcript_ = &transcript;
  boot_ = &report;
  urcs_.clear();
  transcript.emplace_back("-- power on");
  (void)module_->power_on();
  const auto deadline = Clock::now() + kBootDeadline;
  for (;;) {
    settle();
    const auto status = module_->status();
    report.complete = status && status->boot_complete;
    if (report.complete || module_->power_state() == PowerState::off) break;
    // A boot that stopped (a file system did not come up) stays where it is.
    if (!report.events.empty() && report.events.back().starts_with("BOOT_FAILED")) break;
    if (Clock::now() > deadline) break;
    wait_a_little();
  }
  transcript.emplace_back(report.complete ? "-- boot complete" : "-- boot did not complete");
  boot_ = nullptr;
  new_engine();
  return report;
}

void ModuleDriver::power_off() {
  (void)module_->power_off();
  settle();
  engine_.reset();
}

void ModuleDriver::cut() {
  if (module_->power_state() != PowerState::off) (void)module_->power_cut({});
  settle();
  engine_.reset();
}

StepResult ModuleDriver::run(const AtStep& step, Transcript& transcript) {
  transcript_ = &transcript;
  if (!engine_) new_engine();
  switch (step.kind) {
    case AtStep::Kind::wait_urc:
      return wait_urc(step, transcript);
    case AtStep::Kind::host:
      return run_host(step, transcript);
    case AtStep::Kind::command:
      break;
  }
  return run_command(step, transcript);
}

StepResult ModuleDriver::run_command(const AtStep& step, Transcript& transcript) {
  transcript.push_back("> " + step.send);
  std::string output;
  std::string pending = step.send + "\r";
  bool data_sent = !step.data.has_value();
  const auto deadline = now() + std::chrono::milliseconds(step.timeout_ms);
  StepResult result;
  std::size_t shown = 0;  // answer lines already in the transcript
  // Complete lines go to the transcript as they come, in order with the
  // data sent and the cut.
  auto show = [&](bool all) {
    const auto end = all ? output.size() : output.rfind('\n') + 1;
    const auto lines = lines_of(output.substr(0, end));
    for (; shown < lines.size(); ++shown)
      transcript.push_back("< " + lines[shown]);
  };
  for (;;) {
    if (!pending.empty()) pending.erase(0, engine_->feed(pending));
    settle();
    engine_->poll();
    output += engine_->take_output();
    if (output.find('\n') != std::string::npos) show(false);
    if (power_lost()) {
      result.kind = StepResult::Kind::power_lost;
      break;
    }
    if (!data_sent && pending.empty() && asks_for_data(output)) {
      pending = *step.data;
      data_sent = true;
      transcript.push_back("> <" + std::to_string(pending.size()) + " bytes of data>");
      continue;
    }
    const auto lines = lines_of(output);
    const bool done = pending.empty() && engine_->mode() == at::EngineMode::kCommand &&
                      !lines.empty() && is_final(lines.back());
    if (done) {
      result.kind = std::find(lines.begin(), lines.end(), step.expect) != lines.end()
                        ? StepResult::Kind::ok
                        : StepResult::Kind::mismatch;
      break;
    }
    if (now() > deadline) {
      result.kind = StepResult::Kind::timeout;
      break;
    }
    if (pending.empty()) wait_a_little();
  }
  show(true);
  result.answer = joined(lines_of(output));
  return result;
}

StepResult ModuleDriver::wait_urc(const AtStep& step, Transcript& transcript) {
  transcript.push_back("-- waiting for " + step.urc);
  const auto deadline = now() + std::chrono::milliseconds(step.timeout_ms);
  StepResult result;
  for (;;) {
    settle();
    // First: the power may have gone after the URC, in the same round (the
    // boot that follows a FOTA's END,0); the step then lost power, as a
    // command whose answer came before the cut does.
    if (power_lost()) {
      result.kind = StepResult::Kind::power_lost;
      return result;
    }
    const auto it = std::find(urcs_.begin(), urcs_.end(), step.urc);
    if (it != urcs_.end()) {
      urcs_.erase(urcs_.begin(), it + 1);  // a later wait looks past this one
      return result;
    }
    if (now() > deadline) {
      result.kind = StepResult::Kind::timeout;
      return result;
    }
    wait_a_little();
  }
}

void ModuleDriver::keep_baseline() {
  module_->flash().lock().storage().snapshot_begin();
}

void ModuleDriver::rewind() {
  cut();
  auto flash = module_->flash().lock();
  flash.storage().snapshot_rollback();
  flash.faults().clear_rules();
  flash.faults().reset_operation_count();
  const Seeds seeds{seed_};
  flash.faults().reseed(seeds.faults());
  flash.chip().set_generator(nand::Rng(seeds.chip()));
  fault_.reset();
}

tl::expected<void, std::string> ModuleDriver::save_image(const std::filesystem::path& path) {
  std::optional<Controlled<SnapshotDone>> saved;
  module_->snapshot_save(path.string(), [&](const Controlled<SnapshotDone>& r) { saved = r; });
  while (!saved) {
    if (io_.stopped()) io_.restart();
    io_.run_one_for(std::chrono::milliseconds(10));
  }
  if (!*saved) return tl::unexpected(path.string() + ": " + saved->error().desc);
  return {};
}

namespace {

// The program's output (stdout and stderr, one file) as transcript lines.
void append_output(const std::filesystem::path& file, Transcript& transcript) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    transcript.push_back("host: " + line);
  }
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

StepResult ModuleDriver::run_host(const AtStep& step, Transcript& transcript) {
  transcript.push_back("$ " + step.run);
  StepResult result;
  if (state_dir_.empty()) {
    result.kind = StepResult::Kind::mismatch;
    result.answer = "no ports (the module was made without a state directory)";
    return result;
  }
  const std::filesystem::path output = state_dir_ / "host-output.txt";
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!entry.starts_with("VMODEM_AT_PORT=") && !entry.starts_with("VMODEM_CTL=") &&
        !entry.starts_with("VMODEM_STATE="))
      env.emplace_back(entry);
  }
  env.push_back("VMODEM_AT_PORT=" + (state_dir_ / "ttyUSB2").string());
  env.push_back("VMODEM_CTL=" + (state_dir_ / "control.sock").string());
  env.push_back("VMODEM_STATE=" + state_dir_.string());
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c", command = step.run;
  char* argv[] = {shell.data(), dash_c.data(), command.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, step.dir.c_str());
  posix_spawnattr_init(&attributes);
  // A group of its own: the power cut and the timeout kill it whole.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, shell.c_str(), &actions, &attributes, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    result.kind = StepResult::Kind::mismatch;
    result.answer = "cannot start /bin/sh (error " + std::to_string(spawned) + ")";
    return result;
  }
  const auto deadline = now() + std::chrono::milliseconds(step.timeout_ms);
  int status = 0;
  auto stop = [&](StepResult::Kind kind) {
    ::kill(-pid, SIGKILL);
    (void)::waitpid(pid, &status, 0);
    result.kind = kind;
  };
  for (;;) {
    settle();
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      settle();  // what it sent last
      result.answer = exit_text(status);
      // A program that ended because its port vanished at the cut: the power went.
      if (power_lost()) {
        result.kind = StepResult::Kind::power_lost;
      } else {
        result.kind = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? StepResult::Kind::ok
                                                                    : StepResult::Kind::mismatch;
      }
      break;
    }
    if (power_lost()) {
      stop(StepResult::Kind::power_lost);
      transcript.push_back("-- host program killed: the power went");
      break;
    }
    if (now() > deadline) {
      stop(StepResult::Kind::timeout);
      transcript.push_back("-- host program killed at its timeout (" +
                           std::to_string(step.timeout_ms) + " ms)");
      break;
    }
    wait_a_little();
  }
  append_output(output, transcript);
  return result;
}

}  // namespace vmodem::sim::campaign
