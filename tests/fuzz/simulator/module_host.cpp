#include "module_host.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <utility>

#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands/command_set.hpp"
#include "control/protocol.hpp"
#include "control/requests.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim::fuzzing {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::uint64_t kSeed = 1;
// tests/fuzz/simulator/module_profile.json: the BG95-M3 with every partition
// near the smallest its layer accepts. A boot mounts (scans) both file
// systems and opens both backups; on the real 2048-block layout that was most
// of an input's time.
constexpr char kProfileJson[] =
#include "module_profile.inc"
    ;
// Rounds of feed / run the module / read the output before a host gives up
// on bytes the engine does not take (a command that never answers).
constexpr int kFeedRounds = 32;
// Rounds of io_context polling per settle: a boot is a handful of zero-delay
// timers; a runaway chain of posts must not hang the fuzzer.
constexpr int kSettleRounds = 256;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "module fuzz host: %s\n", why.c_str());
  std::abort();
}

void check_line(const std::string& line) {
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
    die("control output is not one line: " + line);
  const json parsed = json::parse(line, nullptr, false);
  if (!parsed.is_object()) die("control output is not a JSON object: " + line);
}

bool write_file(const char* path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out.flush());
}

}  // namespace

void initialize_fuzzer(const char* target) {
  if (!sandbox_network())
    std::fprintf(stderr, "%s: no network namespace; FOTA downloads may reach out\n", target);
  (void)ModuleHost::instance();
}

// A new network namespace starts with its loopback down: bring it up, so
// the module's sockets (AT+QIOPEN to a listener of its own) reach each other
// inside the sandbox and nowhere else.
bool loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags =
      static_cast<short>(request.ifr_flags | IFF_UP);  // NOLINT(hicpp-signed-bitwise)
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  ::close(fd);
  return ok;
}

bool sandbox_network() {
  if (unshare(CLONE_NEWNET) == 0) {
    (void)loopback_up();  // without it, the socket commands only see their errors
    return true;
  }
  // Not root: a user namespace in which we are root, mapped to our own ids
  // (files we create keep our ownership), then the network namespace.
  const auto uid = getuid();
  const auto gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return false;
  const bool mapped = write_file("/proc/self/setgroups", "deny") &&
                      write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
                      write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  (void)loopback_up();  // without it, the socket commands only see their errors
  return mapped;
}

// The module as the control socket reaches it, but host paths stay inside
// the host's private directory: a request for any path gets one of two
// snapshot files there (the same path always the same file).
class SandboxTarget final : public ControlTarget {
 public:
  SandboxTarget(Module& module, std::filesystem::path dir)
      : module_(module), dir_(std::move(dir)) {}

  Controlled<ModuleStatus> status() override { return module_.status(); }
  Controlled<PowerState> power_on() override { return module_.power_on(); }
  Controlled<PowerState> power_off() override { return module_.power_off(); }
  Controlled<PowerCutOutcome> power_cut(const PowerCutRequest& request) override {
    return module_.power_cut(request);
  }
  Controlled<PowerState> reset() override { return module_.reset(); }
  Controlled<InjectOutcome> inject(const InjectRequest& request) override {
    return module_.inject(request);
  }
  Controlled<ModuleStats> stats() override { return module_.stats(); }
  void snapshot_save(const std::string& path, SnapshotReply done) override {
    module_.snapshot_save(sandboxed(path), std::move(done));
  }
  void snapshot_load(const std::string& path, SnapshotReply done) override {
    // A load ends the flash's COW snapshot: the next input restores the
    // baseline image instead of rolling back.
    loaded_ = true;
    module_.snapshot_load(sandboxed(path), std::move(done));
  }
  Controlled<BackupReport> backup_info(const std::string& file_system) override {
    return module_.backup_info(file_system);
  }
  Controlled<FileChecksum> file_crc32(const std::string& path) override {
    return module_.file_crc32(path);
  }
  Controlled<FileChecksum> checksum_update(const std::string& path) override {
    return module_.checksum_update(path);
  }
  Controlled<AppFotaStaged> app_fota(const std::string& path) override {
    return module_.app_fota(sandboxed(path));
  }
  void app_sync(AppSyncReply done) override { module_.app_sync(std::move(done)); }
  Controlled<FastbootErased> fastboot_erase(const std::string& partition) override {
    return module_.fastboot_erase(partition);
  }
  Controlled<SimReport> sim_remove() override { return module_.sim_remove(); }
  Controlled<SimReport> sim_insert(bool fresh) override { return module_.sim_insert(fresh); }
  Controlled<NetworkReport> network(const NetworkRequest& request) override {
    return module_.network(request);
  }
  Controlled<GnssReport> gnss(const GnssRequest& request) override { return module_.gnss(request); }
  Controlled<SmsDelivered> sms_deliver(const SmsDeliverRequest& request) override {
    return module_.sms_deliver(request);
  }
  Controlled<std::vector<SmsRecord>> sms_outbox(bool clear) override {
    return module_.sms_outbox(clear);
  }
  Controlled<std::vector<nand::ArmedRule>> faults() override { return module_.faults(); }
  Controlled<std::vector<std::uint32_t>> disarm(std::optional<std::uint32_t> id) override {
    return module_.disarm(id);
  }
  std::uint64_t subscribe(std::function<void(const json&)> listener) override {
    return module_.subscribe(std::move(listener));
  }
  void unsubscribe(std::uint64_t id) override { module_.unsubscribe(id); }

  bool take_loaded() { return std::exchange(loaded_, false); }

 private:
  std::string sandboxed(const std::string& path) const {
    return (dir_ / ("snapshot" + std::to_string(std::hash<std::string>{}(path) % 2) + ".img"))
        .string();
  }

  Module& module_;
  std::filesystem::path dir_;
  bool loaded_ = false;
};

ModuleHost& ModuleHost::instance() {
  static ModuleHost host;
  return host;
}

ModuleHost::ModuleHost() {
  build();
}

ModuleHost::~ModuleHost() {
  // At exit: nothing to keep. Drop the module before its io_context.
  if (module_) module_->power_cut({});
  engines_.clear();
  target_.reset();
  module_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ModuleHost::build() {
  // VMODEM_FUZZ_TRACE=1: what the module answers, on stderr (reading a
  // reproducer); the module's log stays off, it would cost more than the run.
  trace_ = std::getenv("VMODEM_FUZZ_TRACE") != nullptr;  // NOLINT(concurrency-mt-unsafe)
  spdlog::set_level(spdlog::level::off);
  // Downloads end fast even where sandbox_network() was refused.
  setenv("VMODEM_FOTA_TIMEOUT_MS", "200", 1);  // NOLINT(concurrency-mt-unsafe)
  // /dev/shm when present: snapshot files cost no disk.
  std::error_code ec;
  const auto base = std::filesystem::is_directory("/dev/shm", ec)
                        ? std::filesystem::path("/dev/shm")
                        : std::filesystem::temp_directory_path();
  std::string templ = (base / "vmodem-fuzz-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) die("cannot create a directory in " + base.string());
  dir_ = templ;

  auto profile = parse_profile(kProfileJson, "tests/fuzz/simulator/module_profile.json");
  if (!profile) die(profile.error().describe());
  // Fast mode with every boot delay zero: a boot is a few zero-delay timers.
  profile->boot.fast_mode_divisor = 1000000;
  ModuleOptions options;
  options.state_dir = dir_ / "state";
  options.seeds = Seeds{kSeed};
  options.uart_port = true;
  options.ram_flash = true;
  auto created = Module::create(io_, std::move(*profile), options);
  if (!created) die(created.error());
  module_ = std::move(*created);
  target_ = std::make_unique<SandboxTarget>(*module_, dir_);
  for (const char* name : {"at", "modem", "uart"}) {
    at::EngineConfig config;
    config.now = [this] { return now_; };
    engines_[name] = std::make_unique<at::Engine>(module_->registry(), std::move(config));
  }
  module_->subscribe([this](const json& event) { on_event(event); });

  // The production line: the first boot formats, installs the factory files
  // and backs them up. Then off, and that flash is every input's baseline.
  begin_input();
  if (module_->power_state() != PowerState::app_rdy) die("the first boot did not reach APP RDY");
  (void)module_->power_off();
  settle();
  module_->flash().lock().storage().snapshot_begin();
  // A snapshot-load replaces the whole flash: this copy puts it back.
  const auto saved = await_reply([&](control::JsonReply done) {
    module_->snapshot_save(
        (dir_ / "baseline.img").string(),
        [done](const Controlled<SnapshotDone>& r) { done(control::as_json(r)); });
  });
  if (!saved) die("cannot save the baseline image: " + saved.error().desc);
}

void ModuleHost::restore_baseline_image() {
  auto flash = module_->flash().lock();
  auto& storage = flash.storage();
  if (auto ok = storage.import_image(dir_ / "baseline.img"); !ok)
    die("cannot restore the baseline image: " + ok.error().message());
  storage.snapshot_begin();
}

void ModuleHost::begin_input() {
  auto& flash = module_->flash();
  if (target_->take_loaded()) {
    restore_baseline_image();
  } else if (flash.lock().storage().snapshot_active()) {
    flash.lock().storage().snapshot_rollback();
  }
  flash.lock().faults().clear_rules();
  flash.lock().faults().reset_operation_count();
  flash.lock().faults().reseed(Seeds{kSeed}.faults());
  flash.lock().chip().set_generator(nand::Rng(Seeds{kSeed}.chip()));
  now_ = at::Clock::time_point(std::chrono::hours(1));
  port_ = "at";
  stalled_ = false;
  subscribed_ = false;
  (void)module_->power_on();
  settle();
}

void ModuleHost::end_input() {
  if (module_->power_state() != PowerState::off) (void)module_->power_cut({});
  // The slot is not in the flash the next input rolls back: the card goes
  // back in (quietly, the module being off).
  (void)module_->sim_insert(false);
  // Nor is the network: a perfect link with coverage for the next input.
  (void)module_->network(NetworkRequest{.clear = true});
  settle();
  for (auto& [name, engine] : engines_)
    engine->reset();
  live_ = false;
}

void ModuleHost::on_event(const json& event) {
  const std::string name = event.value("event", "");
  if (subscribed_) check_line(control::event_line(event));
  if (name == "POWER_STATE") {
    const std::string state = event["data"].value("state", "");
    if (state == "off") {
      // The ports went away (PtyPort::disconnect): engines back to power-on.
      live_ = false;
      for (auto& [port, engine] : engines_)
        engine->reset();
    } else if (state == "rdy") {
      live_ = true;
      // Module::reach_rdy: AT&W settings are each port's power-on settings.
      if (const auto& saved = module_->nv().values().profile) {
        for (auto& [port, engine] : engines_)
          apply_saved_settings(engine->settings(), *saved);
      }
    }
    return;
  }
  if (name == "URC") {
    // A FOTA update at boot brings the ports up for its URCs before RDY.
    if (module_->power_state() != PowerState::off) live_ = true;
    const auto it = engines_.find(event["data"].value("port", "at"));
    if (live_ && it != engines_.end())
      it->second->queue_urc(event["data"].value("text", std::string()));
  }
}

void ModuleHost::pump_engine(const std::string& port) {
  at::Engine& engine = *engines_.at(port);
  engine.poll();
  if (stalled_) return;
  // A download fills the output as fast as the host reads it.
  for (int round = 0; round < kFeedRounds; ++round) {
    const auto pending = engine.pending_output();
    if (pending.empty()) break;
    if (trace_) {
      std::fprintf(stderr, "[%s] ", port.c_str());
      std::fwrite(pending.data(), 1, pending.size(), stderr);
      std::fputc('\n', stderr);
    }
    engine.consume_output(pending.size());
    if (engine.mode() != at::EngineMode::kDownload) break;
  }
}

control::JsonResult ModuleHost::await_reply(
    const std::function<void(control::JsonReply)>& request) {
  std::optional<control::JsonResult> result;
  request([&result](control::JsonResult r) { result = std::move(r); });
  // Snapshot requests answer from the module's file-I/O thread through a
  // post to the io_context: run it until that reply has been delivered.
  while (!result) {
    if (io_.stopped()) io_.restart();
    io_.run_one_for(std::chrono::milliseconds(10));
  }
  return std::move(*result);
}

void ModuleHost::settle() {
  for (int round = 0; round < kSettleRounds; ++round) {
    std::size_t ran = 0;
    while (ran < 4096) {
      // An io_context that ran out of work stays stopped until restarted.
      if (io_.stopped()) io_.restart();
      const std::size_t n = io_.poll();
      if (n == 0) break;
      ran += n;
    }
    for (auto& [port, engine] : engines_)
      pump_engine(port);
    if (ran == 0) return;
  }
}

void ModuleHost::host_write(std::string_view bytes) {
  for (int round = 0; round < kFeedRounds && !bytes.empty(); ++round) {
    if (!live_) return;  // a muted or absent port drops what it is sent
    at::Engine& engine = *engines_.at(port_);
    bytes.remove_prefix(engine.feed(bytes));
    settle();
    // A host that keeps writing reads again, or flow control would hold it.
    if (!bytes.empty() && !engine.wants_input() && stalled_) stalled_ = false;
  }
}

void ModuleHost::select_port(unsigned index) {
  static constexpr const char* kPorts[] = {"at", "modem", "uart"};
  port_ = kPorts[index % 3];
}

void ModuleHost::advance(std::chrono::milliseconds step) {
  now_ += step;
  settle();
}

void ModuleHost::toggle_stalled_reader() {
  stalled_ = !stalled_;
  settle();
}

std::string ModuleHost::control(std::string_view line) {
  control::ParsedLine parsed = control::parse_request(line);
  if (parsed.empty) return "";
  std::string reply;
  if (!parsed.request) {
    reply = control::error_line(parsed.request.error(), parsed.id);
  } else {
    const auto name = parsed.request->command->name;
    const auto& args = parsed.request->arguments;
    if (!control::is_target_command(name)) {
      // The connection's own commands (control/session.cpp).
      json value = json::object();
      if (name == "query-commands") value = control::describe_commands();
      if (name == "subscribe") subscribed_ = true;
      if (name == "unsubscribe") subscribed_ = false;
      reply = control::return_line(value, parsed.id);
    } else {
      // No try/catch, unlike the session: a module that throws at its
      // control target is a finding.
      const control::JsonResult result = await_reply([&](control::JsonReply done) {
        control::call_target(*target_, name, args, std::move(done));
      });
      reply = result ? control::return_line(*result, parsed.id)
                     : control::error_line(result.error(), parsed.id);
    }
  }
  check_line(reply);
  if (trace_) std::fprintf(stderr, "[control] %s", reply.c_str());
  settle();
  return reply;
}

}  // namespace vmodem::sim::fuzzing
