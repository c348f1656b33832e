// AT+QFOTADL (DFOTA guide §3, SPEC §7): fetch a delta package from the AP file
// system, an FTP server or an HTTP server and hand it to the module's
// firmware update (FirmwareUpdate::stage_firmware_update), which resets and applies it.
//
//   AT+QFOTADL="FTP://u:p@host:21/delta.bin"
//   OK
//   +QIND: "FOTA","FTPSTART"
//   +QIND: "FOTA","FTPEND",0          <ftp_err>; HTTP: HTTPSTART / HTTPEND,<http_err>
//   (the module resets and applies: START, UPDATING, END, RDY)
//
// Bad syntax and a second download while one runs answer ERROR at once; a
// UFS file that does not exist answers +CME ERROR: 405 (nothing starts). A
// failed download ends with its FTPEND/HTTPEND error and the old firmware
// keeps running; a package larger than the FOTA area also prints
// +QIND: "FOTA","END",511, as does a refused staging with its code.
//
// The download runs on its own thread (fota_download/); the AT port stays
// responsive. A power loss or reset cancels it and nothing is reported after
// the next power-on.
#include <cstdlib>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <vmodem/fota/nand_update.hpp>
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/file_support.hpp"
#include "commands/handler_util.hpp"
#include "commands/pdp_contexts.hpp"
#include "fota_download/download.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {

namespace {

using fota::Failure;
using fota::FotaSource;
using fota::SourceKind;

constexpr std::chrono::milliseconds kDefaultTimeout{90000};  // the guide's maximum response time
constexpr int kEndTooLarge = 511;

// VMODEM_FOTA_TIMEOUT_MS and VMODEM_FOTA_DEADLINE_MS replace the download's
// inactivity timeout and its overall deadline (tests, impatient hosts).
// getenv is only unsafe against a concurrent setenv; vmodem never sets its
// environment.
std::chrono::milliseconds from_environment(const char* name, std::chrono::milliseconds fallback) {
  const char* text = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long ms = std::strtoll(text, &end, 10);
  if (*end != '\0' || ms <= 0) return fallback;
  return std::chrono::milliseconds(ms);
}

std::uint64_t fota_area_bytes(const Profile& profile) {
  const PartitionEntry* area = profile.find_role(PartitionRole::fota);
  return area ? std::uint64_t{area->spec.block_count} * profile.geometry.block_bytes() : 0;
}

// The AT+QFUPL/QFDWL checksum of a package, so a log line can be compared
// with what the host sent.
std::string checksum_of(const std::vector<std::uint8_t>& package) {
  files::Checksum sum;
  sum.add(package);
  return sum.hex();
}

// One module's downloads: at most one at a time. Lives on the io thread
// (handlers, posted completions, power events); the transfer thread only
// posts its result back.
class FotaDownloads : public std::enable_shared_from_this<FotaDownloads> {
 public:
  explicit FotaDownloads(const CommandServices& module) : module_(module) {}

  void watch_power() {
    module_.power.on_power_state([weak = weak_from_this()](PowerState state) {
      if (auto self = weak.lock(); self && state != PowerState::app_rdy)
        self->cancel("power state " + std::string(to_string(state)));
    });
  }

  void handle(at::Call& call) {
    const auto text = str_arg(call.command, 0);
    if (!text || call.command.args.size() != 1) return void(call.responder.error());
    auto source = fota::parse_fota_source(*text);
    if (!source) {
      module_.log.info("AT+QFOTADL refused: {}", source.error().message);
      return void(call.responder.error());
    }
    if (running_) return void(call.responder.error());  // one download at a time
    if (source->kind == SourceKind::ufs) return from_file(call, *source);
    call.responder.ok();
    running_ = true;
    boost::asio::post(module_.io,
                      [self = shared_from_this(), source = *source, generation = generation_] {
                        if (generation == self->generation_) self->start(source);
                      });
  }

 private:
  void from_file(at::Call& call, const FotaSource& source) {
    // A flat name is in UFS; an absolute path is a Linux-based module's
    // (EC2x QuecOpen) place in its Linux tree — on a module without one it
    // names no file.
    std::string name = module_.profile.ufs().name;
    std::string path = files::path_of(source.file);
    if (source.file.starts_with('/')) {
      const LinuxFile where = resolve_linux_path(module_.profile, source.file);
      if (!where.fs) return void(call.responder.cme_error(files::kNotFound));
      name = where.fs->name;
      path = where.inner;
    }
    fs::SharedFileSystem* fs = module_.file_systems.file_system(name);
    if (fs == nullptr) return void(call.responder.error());
    tl::expected<std::vector<std::uint8_t>, fs::Error> package;
    package = fs->lock()->read_file(path);
    if (!package) {
      module_.log.info("AT+QFOTADL: UFS:{}: {}", source.file, package.error().message());
      const auto why = package.error().code;
      if (why == fs::Errc::not_found || why == fs::Errc::name_too_long ||
          why == fs::Errc::invalid_name)
        return void(call.responder.cme_error(files::kNotFound));
      if (why == fs::Errc::power_loss) return call.responder.abandon();
      return void(call.responder.cme_error(files::kOpenFail));
    }
    module_.log.info("FOTA: package UFS:{} ({} bytes, checksum {})", source.file, package->size(),
                     checksum_of(*package));
    call.responder.ok();
    running_ = true;
    // After the OK: staging resets the module.
    boost::asio::post(module_.io, [self = shared_from_this(), package = std::move(*package),
                                   generation = generation_] {
      if (generation == self->generation_) self->stage(package);
    });
  }

  void start(const FotaSource& source) {
    const bool ftp = source.kind == SourceKind::ftp;
    module_.urcs.send_urc(vmodem::fota::fota_urc(ftp ? "FTPSTART" : "HTTPSTART"));
    const Failure refused = check_context();
    if (refused != Failure::none) return finish(source.kind, {refused, {}, "PDP context"});
    fota::DownloadRequest request{source, fota_area_bytes(module_.profile),
                                  from_environment("VMODEM_FOTA_TIMEOUT_MS", kDefaultTimeout)};
    request.deadline = from_environment(
        "VMODEM_FOTA_DEADLINE_MS", std::chrono::seconds(module_.profile.fota.download_deadline_s));
    module_.log.info("FOTA: downloading {} (timeout {} ms, deadline {} ms, at most {} bytes)",
                     source.redacted(), request.timeout.count(), request.deadline.count(),
                     request.max_bytes);
    auto& io = module_.io;
    transfer_ = std::make_unique<fota::Transfer>(
        std::move(request), [weak = weak_from_this(), &io, kind = source.kind,
                             generation = generation_](fota::DownloadResult result) {
          boost::asio::post(io, [weak, kind, generation, result = std::move(result)]() mutable {
            auto self = weak.lock();
            if (self && generation == self->generation_) self->finish(kind, std::move(result));
          });
        });
  }

  Failure check_context() {
    const int cid = module_.nv.values().qcfg_value(Qcfg::fota_cid);
    if (!pdp_context_defined(module_.profile.network, module_.nv, cid))
      return Failure::context_unconfigured;
    if (!module_.radio.active_contexts.contains(cid)) return Failure::context_inactive;
    return Failure::none;
  }

  void finish(SourceKind kind, fota::DownloadResult result) {
    running_ = false;
    retired_ = std::move(transfer_);  // its thread is ending; joined later
    const int code = fota::result_code(kind, result.failure);
    if (result.failure == Failure::none) {
      module_.log.info("FOTA: downloaded {} bytes, checksum {}", result.package.size(),
                       checksum_of(result.package));
    } else {
      module_.log.warn("FOTA: download failed ({}): {}", code, result.detail);
    }
    module_.urcs.send_urc(
        vmodem::fota::fota_urc(kind == SourceKind::ftp ? "FTPEND" : "HTTPEND", code));
    if (result.failure == Failure::too_large) {
      module_.log.warn("FOTA: the package is larger than the FOTA area ({} bytes)",
                       fota_area_bytes(module_.profile));
      module_.urcs.send_urc(vmodem::fota::fota_urc("END", kEndTooLarge));
    } else if (result.failure == Failure::none) {
      stage(result.package);
    }
  }

  void stage(const std::vector<std::uint8_t>& package) {
    running_ = false;
    if (package.size() > fota_area_bytes(module_.profile)) {
      module_.log.warn("FOTA: the package is larger than the FOTA area");
      module_.urcs.send_urc(vmodem::fota::fota_urc("END", kEndTooLarge));
      return;
    }
    const int code = module_.firmware.stage_firmware_update(package);
    if (code != 0) module_.urcs.send_urc(vmodem::fota::fota_urc("END", code));
  }

  void cancel(const std::string& why) {
    ++generation_;  // completions already posted are dropped
    running_ = false;
    if (transfer_) {
      module_.log.info("FOTA: download cancelled ({})", why);
      transfer_->cancel();
      retired_ = std::move(transfer_);
    }
  }

  const CommandServices module_;  // references to the module's parts
  std::uint64_t generation_ = 0;
  bool running_ = false;
  std::unique_ptr<fota::Transfer> transfer_;
  std::unique_ptr<fota::Transfer> retired_;  // the previous one (its thread ending)
};

}  // namespace

void register_fota_commands(at::Registry& registry, const CommandServices& module) {
  auto downloads = std::make_shared<FotaDownloads>(module);
  downloads->watch_power();
  at::CommandSpec spec;
  spec.gate_tag = kNeedsAppRdy;
  spec.write = [downloads](at::Call& call) { downloads->handle(call); };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+QFOTADL", std::move(spec));
}

}  // namespace vmodem::sim
