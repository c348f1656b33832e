// Module: construction, ports, power transitions. Boot steps are in boot.cpp,
// control requests in control.cpp, the command set in ../commands/.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <vmodem/at/cmux.hpp>
#include <vmodem/simulator/file_commands.hpp>
#include <vmodem/simulator/gate.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "commands/gnss.hpp"
#include "commands/sim_card.hpp"
#include "module/boot_sequence.hpp"
#include "module/fs_boot.hpp"
#include "module/live_mounts.hpp"
#include "module/nv_settings.hpp"
#include "net/reach.hpp"
#include "net/socket_service.hpp"
#include "quecopen/boot_script.hpp"
#include "sms/sms_service.hpp"

namespace vmodem::sim {

std::string_view to_string(PowerState state) {
  switch (state) {
    case PowerState::off:
      return "off";
    case PowerState::booting:
      return "booting";
    case PowerState::rdy:
      return "rdy";
    case PowerState::app_rdy:
      return "app_rdy";
  }
  return "unknown";
}

namespace {

struct PortPlan {
  const char* name;
  const char* link;
  at::PortStyle style;
  bool output_only = false;
};

// Named like the module's USB interfaces on a Linux host (Quectel: ttyUSB1
// is the NMEA port, ttyUSB2 the AT port, ttyUSB3 the modem port), plus the
// main UART.
constexpr PortPlan kUsbPorts[] = {{"nmea", "ttyUSB1", at::PortStyle::kUsb, true},
                                  {"at", "ttyUSB2", at::PortStyle::kUsb},
                                  {"modem", "ttyUSB3", at::PortStyle::kUsb}};
constexpr PortPlan kUartPort = {"uart", "ttyS0", at::PortStyle::kUart};

}  // namespace

Module::Module(boost::asio::io_context& io, Profile profile, ModuleOptions options,
               std::shared_ptr<Flash> flash)
    : io_(io),
      profile_(std::move(profile)),
      options_(std::move(options)),
      log_(options_.log ? options_.log : spdlog::default_logger()),
      flash_(std::move(flash)),
      live_mounts_(std::make_unique<LiveMounts>(options_.mount_dir, log_)),
      nv_(std::make_unique<NvSettings>()) {
  for (const FileSystemSpec& spec : profile_.file_systems) {
    MountedFs slot;
    slot.spec = &spec;
    file_systems_.push_back(std::move(slot));
  }
  boot_ = std::make_unique<BootSequence>(profile_.boot, options_.real_time);
}

Module::~Module() {
  stop_boot_script();  // its mounts serve the file systems destroyed below
  // A snapshot being written finishes first (its file complete); what it
  // posts back finds alive_ expired.
  file_io_.join();
}

namespace {

// The module's packet network from --allow-net and --dns.
tl::expected<std::unique_ptr<net::Reach>, std::string> make_reach(const ModuleOptions& options) {
  auto reach = std::make_unique<net::Reach>();
  for (const auto& network : options.allow_net) {
    if (!reach->allow(network))
      return tl::unexpected("--allow-net " + network +
                            ": not a network or address (e.g. 10.0.0.0/8, 192.0.2.7, ::1)");
  }
  for (const auto& [name, address] : options.hosts) {
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(address, ec);
    if (ec) return tl::unexpected("--dns " + name + "=" + address + ": not an IP address");
    reach->add_host(name, ip);
  }
  return reach;
}

}  // namespace

tl::expected<std::unique_ptr<Module>, std::string> Module::create(boost::asio::io_context& io,
                                                                  Profile profile,
                                                                  ModuleOptions options,
                                                                  nand::Errc* cause) {
  std::error_code ec;
  if (!options.state_dir.empty()) std::filesystem::create_directories(options.state_dir, ec);
  if (ec)
    return tl::unexpected("cannot create " + options.state_dir.string() + ": " + ec.message());
  const auto image = options.image.empty() ? options.state_dir / "nand.img" : options.image;
  const auto mode = options.new_image ? Flash::Mode::create_new : Flash::Mode::open_or_create;
  tl::expected<std::shared_ptr<Flash>, std::string> flash = options.flash;
  if (!options.flash) {
    flash = options.ram_flash ? Flash::in_memory(profile, options.seeds)
                              : Flash::open(profile, image, mode, options.seeds, false, cause);
  }
  if (!flash) return tl::unexpected(flash.error());
  if ((*flash)->created() && !options.flash) {
    (options.log ? *options.log : *spdlog::default_logger())
        .info("manufactured a new NAND image ({} factory bad blocks)",
              (*flash)->factory_bad_blocks().size());
  }
  (*flash)->lock().chip().set_real_time_pacing(options.real_time);
  const bool created = (*flash)->created() && !options.factory_booted;
  auto reach = make_reach(options);
  if (!reach) return tl::unexpected(reach.error());
  std::unique_ptr<Module> module(
      new Module(io, std::move(profile), std::move(options), std::move(*flash)));
  module->reach_ = std::move(*reach);
  module->sockets_ = std::make_unique<net::SocketService>(
      io, *module->reach_, *module->log_,
      [m = module.get()](const std::string& urc) { m->send_urc(urc); });
  module->sim_ = std::make_unique<SimCard>(SimCard::Parts{
      .profile = module->profile_,
      .nv = *module->nv_,
      .radio = module->runtime_,
      .urcs = *module,
      .power = *module,
      .context_lost = [m = module.get()](int cid) { m->sockets_->context_down(cid, true); }});
  module->gnss_ = std::make_unique<GnssReceiver>(module->profile_.gnss,
                                                 module->scaled(module->profile_.gnss.ttff_ms));
  auto emit = [m = module.get()](const std::string& event, nlohmann::json data) {
    m->emit(event, std::move(data));
  };
  module->sms_ = std::make_unique<sms::SmsService>(sms::SmsService::Parts{
      .urcs = *module, .emit = std::move(emit), .card_sca = module->profile_.sim.smsc});
  module->manufacture_pending_ = created;
  module->take_fault_listener();
  module->build_registry();
  if (auto ok = module->open_ports(); !ok) return tl::unexpected(ok.error());
  return module;
}

void Module::build_registry() {
  at::install_v250_commands(registry_);
  at::install_cmux_command(registry_);
  register_command_set(registry_, CommandServices{.profile = profile_,
                                                  .log = *log_,
                                                  .io = io_,
                                                  .nv = *nv_,
                                                  .radio = runtime_,
                                                  .power = *this,
                                                  .urcs = *this,
                                                  .file_systems = *this,
                                                  .firmware = *this,
                                                  .sockets = *sockets_,
                                                  .sim = *sim_,
                                                  .sms = *sms_});
  register_gnss_commands(registry_, *gnss_);
  file_handles_ = std::make_unique<FileHandles>(register_file_commands(
      registry_, FileCommandContext{
                     [this] {
                       return state_ == PowerState::app_rdy ? file_system(profile_.ufs().name)
                                                            : nullptr;
                     },
                 }));
  registry_.set_gate(
      [this](const at::Command& command, std::uint32_t tag) -> std::optional<at::Failure> {
        // Once a reset or power-down is under way nothing else may happen
        // (a second AT+QFOTADL after a download completed, a write the
        // shutdown would cut).
        if (going_down_) return at::Failure::error();
        const bool ready =
            tag == kAlways ||
            (tag != kNeedsAppRdy && state_ != PowerState::off && state_ != PowerState::booting) ||
            (tag == kNeedsAppRdy && state_ == PowerState::app_rdy);
        if (!ready) return at::Failure::error();
        return sim_gate(*sim_, command, tag);
      });
}

tl::expected<void, std::string> Module::open_ports() {
  if (!options_.ports) return {};
  std::vector<PortPlan> plans(std::begin(kUsbPorts), std::end(kUsbPorts));
  if (options_.uart_port) plans.push_back(kUartPort);
  for (const auto& plan : plans) {
    at::PtyPortOptions port_options;
    port_options.link = options_.state_dir / plan.link;
    port_options.style = plan.style;
    port_options.output_only = plan.output_only;
    // Every port starts disconnected: a UART keeps its PTY (the host may
    // open it before the module boots) and drops input; a USB port has no
    // PTY and no link until the module enumerates at boot.
    port_options.start_disconnected = true;
    port_options.linked = options_.port_linked;
    // A module that lost power says nothing more, not even the answer of the
    // command whose NAND operation the cut struck (lose_power() runs after it).
    port_options.silenced = [this] { return power_gone_.load(std::memory_order_relaxed); };
    // What a host closing the port takes with it (its unread answers) is
    // easier to understand with its comings and goings in the log.
    port_options.host_changed = [log = log_, port = std::string(plan.name)](bool open) {
      log->debug("port {}: {}", port, open ? "a host opened it" : "the last host closed it");
    };
    port_options.engine.on_handler_exception = [log = log_, port = std::string(plan.name)](
                                                   std::string_view command,
                                                   std::string_view what) {
      log->error("port {}: AT{} threw ({}); answered ERROR", port, command, what);
    };
    if (options_.trace) {
      port_options.trace = [trace = options_.trace, name = std::string(plan.name)](
                               at::TraceDirection d, std::span<const std::uint8_t> bytes) {
        trace(name, d, bytes);
      };
    }
    auto port =
        std::make_unique<at::PtyPort>(io_.get_executor(), registry_, std::move(port_options));
    // Every port starts disconnected: a UART keeps its PTY (the host may
    // open it before the module boots) and drops input; a USB port has no
    // PTY and no link until the module enumerates at boot.
    if (auto ok = port->open(); !ok) {
      return tl::unexpected("cannot open port " + std::string(plan.name) + ": " +
                            ok.error().message);
    }
    port->disconnect();
    ports_[plan.name] = std::move(port);
  }
  return {};
}

std::vector<PortInfo> Module::ports() const {
  std::vector<PortInfo> out;
  for (const auto& [name, port] : ports_) {
    out.push_back(
        {name, port->link_path(), port->device_path(), port->style() == at::PortStyle::kUsb});
  }
  return out;
}

std::chrono::milliseconds Module::scaled(std::uint32_t ms) const {
  if (options_.real_time) return std::chrono::milliseconds(ms);
  return std::chrono::milliseconds(ms / profile_.boot.fast_mode_divisor);
}

std::chrono::milliseconds Module::before_ports_go(std::uint32_t ms) const {
  // Even in fast mode the answer that announced the shutdown (OK, POWERED
  // DOWN) must reach the host before its port disappears.
  return std::max(scaled(ms), std::chrono::milliseconds(20));
}

void Module::after(std::chrono::milliseconds delay, std::function<void()> action) {
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, delay);
  timer->async_wait(
      [this, epoch = epoch_, action = std::move(action)](const boost::system::error_code& ec) {
        // A power transition since the timer was set makes its action stale.
        if (!ec && epoch == epoch_) action();
      });
  timers_.push_back(std::move(timer));
}

void Module::set_state(PowerState state) {
  if (state == state_) return;
  state_ = state;
  going_down_ = false;
  log_->info("power state: {}", to_string(state));
  for (const auto& listener : power_listeners_)
    listener(state);
  emit("POWER_STATE", {{"state", to_string(state)}});
  check_image();
}

void Module::check_image() {
  const std::uint64_t lost = flash_->lock().storage().lost_pages();
  if (lost <= lost_pages_reported_) return;
  lost_pages_reported_ = lost;
  log_->error(
      "the NAND image {} lost {} page(s) under the running module (truncated by another process, "
      "or its disk failed): the module keeps running, but what it writes there is not saved; "
      "stop it and check the image",
      flash_->image_path().string(), lost);
  emit("IMAGE_LOST", {{"path", flash_->image_path().string()}, {"lost_pages", lost}});
}

void Module::emit(const std::string& event, nlohmann::json data) {
  if (listeners_.empty()) return;  // nobody hears it: no message to build
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const nlohmann::json message = {
      {"event", event},
      {"data", std::move(data)},
      {"timestamp", {{"seconds", us / 1000000}, {"microseconds", us % 1000000}}}};
  // A listener may subscribe or unsubscribe while called: a listener
  // subscribed now hears the next event (ids ascend), one unsubscribed is
  // marked gone and erased after (map iterators stay valid either way).
  const std::uint64_t heard_by = next_listener_;
  ++emitting_;
  for (const auto& [id, listener] : listeners_) {
    if (id >= heard_by) break;
    if (!listener.gone) listener.call(message);
  }
  if (--emitting_ == 0) std::erase_if(listeners_, [](const auto& l) { return l.second.gone; });
}

void Module::send_urc(const std::string& line) {
  const std::string& port = nv_->values().urcport;
  const char* name = port == "usbmodem" ? "modem" : port == "uart1" ? "uart" : "at";
  auto it = ports_.find(name);
  if (it == ports_.end()) it = ports_.find("at");
  if (it == ports_.end()) {  // a module without ports (manufacture)
    emit("URC", {{"port", "at"}, {"text", line}});
    return;
  }
  // A multiplexed port hands it to one of its DLCs (CmuxSession::queue_urc).
  if (it->second->connected()) it->second->queue_urc(line);
  emit("URC", {{"port", it->first}, {"text", line}});
}

void Module::disconnect_ports() {
  for (auto& [name, port] : ports_)
    port->disconnect();
  file_handles_->reset();
  sockets_->drop_all();
}

void Module::take_fault_listener() {
  flash_->lock().faults().set_listener([this](const nand::FaultEvent& e) { on_fault(e); });
}

void Module::on_fault(const nand::FaultEvent& event) {
  // The fault fired inside a NAND call: on the io thread from an AT handler,
  // or on a FUSE thread. Everything the module does about it (events, the
  // power loss) happens on the io thread, once that call has unwound; but the
  // ports fall silent now, before the struck command can answer.
  if (event.effect == nand::FaultEffect::power_cut)
    power_gone_.store(true, std::memory_order_relaxed);
  boost::asio::post(io_, [this, event] {
    emit("NAND_FAULT", {{"operation", event.operation},
                        {"op", nand::to_string(event.op)},
                        {"block", event.block},
                        {"page", event.page},
                        {"effect", nand::to_string(event.effect)},
                        {"cut", nand::to_string(event.cut)}});
    if (event.effect == nand::FaultEffect::power_cut) lose_power();
  });
}

void Module::lose_power() {
  if (state_ == PowerState::off) return;
  ++epoch_;
  timers_.clear();
  flash_->lock().faults().cut_power();
  stop_boot_script();
  disconnect_ports();
  nv_->detach();
  sms_->power_off();
  // No FUSE request may reach the file systems once they are gone; requests
  // in flight fail with power_loss (the chip is already unpowered). The
  // mounts stay, answering EIO, so the host sees the power loss.
  live_mounts_->detach(false);
  // Dropping the file systems writes nothing: the chip is unpowered, and a
  // dead instance does not try.
  close_file_systems();
  log_->warn("power lost");
  set_state(PowerState::off);
}

void Module::stop_orderly() {
  ++epoch_;
  timers_.clear();
  stop_boot_script();  // as Linux's shutdown kills what still runs
  disconnect_ports();
  // Detach first: files the host still had open are released (committed)
  // and then synced with the rest; the mounts answer EIO until the next boot.
  live_mounts_->detach(true);
  for (auto slot = file_systems_.rbegin(); slot != file_systems_.rend(); ++slot) {
    if (!slot->fs) continue;
    if (auto synced = slot->fs->lock()->sync(); !synced)
      log_->warn("sync before power-off: {}", synced.error().message());
  }
  nv_->detach();
  sms_->power_off();
  close_file_systems();
  {
    auto flash = flash_->lock();
    (void)flash.storage().sync();
    flash.faults().power_off();  // orderly: not a power cut
  }
  set_state(PowerState::off);
}

void Module::request_reset() {
  going_down_ = true;
  after(before_ports_go(profile_.boot.reset_shutdown_ms), [this] {
    log_->info("reset (AT+CFUN=1,1)");
    stop_orderly();
    start_boot();
  });
}

void Module::request_power_down(bool immediate) {
  going_down_ = true;
  if (immediate) {
    boost::asio::post(io_, [this, epoch = epoch_] {
      if (epoch == epoch_) stop_orderly();
    });
    return;
  }
  after(before_ports_go(profile_.boot.power_down_ms), [this] {
    send_urc("POWERED DOWN");
    // Let the URC reach the host before the ports go.
    after(std::chrono::milliseconds(20), [this] { stop_orderly(); });
  });
}

void Module::shutdown() {
  if (state_ != PowerState::off) stop_orderly();
  live_mounts_->unmount();
  (void)flash_->lock().storage().sync();
}

}  // namespace vmodem::sim
