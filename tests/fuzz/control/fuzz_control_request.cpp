// Control-socket input is whatever a local process writes: any bytes, split
// into lines, must give a valid request or an error object, never a crash,
// and every reply must be exactly one line of JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/protocol.hpp"
#include "control/requests.hpp"

namespace {

using nlohmann::json;
using namespace vmodem::sim;

// Answers every call by echoing what the request builders produced, through
// the typed replies: hostile strings from the request reach the JSON writers.
class EchoTarget : public ControlTarget {
 public:
  Controlled<ModuleStatus> status() override {
    return ModuleStatus{.model = "BG95-M3", .state_dir = "/tmp/\xff"};
  }
  Controlled<PowerState> power_on() override { return PowerState::booting; }
  Controlled<PowerState> power_off() override { return PowerState::off; }
  Controlled<PowerCutOutcome> power_cut(const PowerCutRequest& r) override {
    if (r.when == PowerCutRequest::When::random_window && r.window_first > r.window_last)
      std::abort();  // the validator must have refused this
    return PowerCutOutcome{.armed = r.when != PowerCutRequest::When::now,
                           .rule = r.op_kinds,
                           .operation = r.operations,
                           .mode = r.mode,
                           .seed = r.seed};
  }
  Controlled<PowerState> reset() override {
    return tl::unexpected(ControlError{"DeviceBusy", "x"});
  }
  Controlled<InjectOutcome> inject(const InjectRequest& r) override {
    if (r.kind == InjectRequest::Kind::corrupt_file) return FileCorrupted{r.path, r.bits};
    return NandDamaged{r.block, r.page};
  }
  Controlled<ModuleStats> stats() override { return ModuleStats{}; }
  void snapshot_save(const std::string& path, SnapshotReply done) override {
    if (path.empty() || path.front() != '/') std::abort();  // paths are absolute
    done(SnapshotDone{path, path.size()});
  }
  void snapshot_load(const std::string& path, SnapshotReply done) override {
    snapshot_save(path, std::move(done));
  }
  Controlled<BackupReport> backup_info(const std::string& fs) override {
    return BackupReport{fs, {}};
  }
  Controlled<FileChecksum> file_crc32(const std::string& path) override {
    return FileChecksum{path, 0, false};
  }
  Controlled<FileChecksum> checksum_update(const std::string& path) override {
    return FileChecksum{path, 0, true};
  }
  Controlled<AppFotaStaged> app_fota(const std::string& path) override {
    return AppFotaStaged{.path = path, .bytes = 0, .added = 0, .changed = 0, .removed = 0};
  }
  void app_sync(AppSyncReply done) override { done(AppSyncDone{}); }
  Controlled<FastbootErased> fastboot_erase(const std::string& partition) override {
    return FastbootErased{
        .partition = partition, .erased_blocks = 0, .failed_blocks = 0, .was_on = false};
  }
  Controlled<SimReport> sim_remove() override { return SimReport{.state = "absent"}; }
  Controlled<SimReport> sim_insert(bool fresh) override {
    return SimReport{.state = "ready", .changed = fresh};
  }
  Controlled<NetworkReport> network(const NetworkRequest& request) override {
    return NetworkReport{.latency_ms = request.latency_ms.value_or(0)};
  }
  Controlled<SmsDelivered> sms_deliver(const SmsDeliverRequest& request) override {
    return SmsDelivered{.storage = request.from, .index = 0, .direct = false};
  }
  Controlled<std::vector<SmsRecord>> sms_outbox(bool) override { return std::vector<SmsRecord>{}; }
  Controlled<std::vector<vmodem::nand::ArmedRule>> faults() override {
    return std::vector<vmodem::nand::ArmedRule>{};
  }
  Controlled<std::vector<std::uint32_t>> disarm(std::optional<std::uint32_t> id) override {
    return std::vector<std::uint32_t>(id.has_value() ? 1 : 0, id.value_or(0));
  }
  Controlled<GnssReport> gnss(const GnssRequest& request) override {
    return GnssReport{.latitude = request.latitude.value_or(0)};
  }
  std::uint64_t subscribe(std::function<void(const json&)>) override { return 1; }
  void unsubscribe(std::uint64_t) override {}
};

void check_line(const std::string& line) {
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) std::abort();
  const json reply = json::parse(line, nullptr, false);
  if (!reply.is_object() || !(reply.contains("return") || reply.contains("error"))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static EchoTarget target;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto newline = input.find('\n');
    const auto line = input.substr(0, newline);
    input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
    auto parsed = control::parse_request(line);
    if (parsed.empty) continue;
    if (!parsed.request) {
      check_line(control::error_line(parsed.request.error(), parsed.id));
      continue;
    }
    const auto name = parsed.request->command->name;
    if (!control::is_target_command(name)) {
      check_line(control::return_line(control::describe_commands(), parsed.id));
      continue;
    }
    int replies = 0;
    control::call_target(target, name, parsed.request->arguments, [&](control::JsonResult result) {
      ++replies;
      check_line(result ? control::return_line(*result, parsed.id)
                        : control::error_line(result.error(), parsed.id));
    });
    if (replies != 1) std::abort();  // every request is answered exactly once
  }
  return 0;
}
