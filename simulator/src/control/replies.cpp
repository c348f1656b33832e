#include "control/replies.hpp"

#include <cstdio>

#include "stats_json.hpp"

namespace vmodem::sim::control {

using nlohmann::json;

json to_json(const ModuleStatus& s) {
  json ports = json::object();
  for (const auto& port : s.ports) {
    ports[port.name] = {
        {"link", port.link.string()}, {"device", port.device.string()}, {"usb", port.usb}};
  }
  return json{{"power", to_string(s.power)},
              {"model", s.model},
              {"profile", s.profile},
              {"revision", s.revision},
              {"seed", std::to_string(s.seed)},  // a string: exact in every JSON parser
              {"state_dir", s.state_dir.string()},
              {"ports", ports},
              {"boots", s.boots},
              {"uptime_ms", s.uptime_ms},
              {"boot_complete", s.boot_complete},
              {"real_time", s.real_time},
              {"nand_operations", s.nand_operations},
              {"image_lost_pages", s.image_lost_pages},
              {"sim", s.sim},
              {"files_restored", s.files_restored},
              {"files_restored_total", s.files_restored_total},
              {"app_updates_total", s.app_updates_total},
              {"last_app_update", s.last_app_update}};
}

json to_json(PowerState power) {
  return json{{"power", to_string(power)}};
}

json to_json(const PowerCutOutcome& outcome) {
  if (!outcome.armed) return json{{"cut", true}};
  json out = {{"armed", true},
              {"rule", outcome.rule},
              {"operation", outcome.operation},
              {"mode", nand::to_string(outcome.mode)}};
  if (outcome.seed) out["seed"] = std::to_string(*outcome.seed);
  return out;
}

json to_json(const InjectOutcome& outcome) {
  struct Writer {
    json operator()(const RuleArmed& r) const { return {{"rule", r.rule}}; }
    json operator()(const FileCorrupted& f) const { return {{"path", f.path}, {"bits", f.bits}}; }
    json operator()(const NandDamaged& d) const { return {{"block", d.block}, {"page", d.page}}; }
  };
  return std::visit(Writer{}, outcome);
}

// The same layout as `vmodem image stats --json` (stats_json.hpp), plus
// "<name>_fs" for each mounted file system.
json to_json(const ModuleStats& stats) {
  json out = stats_json(stats.nand);
  for (const auto& [name, st] : stats.file_systems) {
    out[name + "_fs"] = {{"total_bytes", st.total_bytes},
                         {"free_bytes", st.free_bytes},
                         {"pages_in_use", st.pages_in_use},
                         {"bad_blocks", st.bad_blocks}};
  }
  return out;
}

json to_json(const SnapshotDone& done) {
  json out = {{"path", done.path}};
  if (done.bytes) out["bytes"] = *done.bytes;
  return out;
}

json to_json(const FileChecksum& checksum) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", checksum.crc32);
  return json{{"path", checksum.path},
              {"crc32", checksum.crc32},
              {"crc32_hex", hex},
              {"updated", checksum.updated}};
}

json to_json(const AppFotaStaged& staged) {
  return json{{"path", staged.path},       {"bytes", staged.bytes},
              {"added", staged.added},     {"changed", staged.changed},
              {"removed", staged.removed}, {"applies", "at the next boot"}};
}

json to_json(const AppSyncDone& done) {
  if (done.script) {
    return json{{"outcome", done.outcome},
                {"exit_code", done.script->exit_code},
                {"timed_out", done.script->timed_out},
                {"ms", done.script->ms}};
  }
  return json{{"outcome", done.outcome},
              {"system_version", done.system_version},
              {"backup_version", done.backup_version},
              {"files", done.files},
              {"bytes", done.bytes}};
}

json to_json(const FastbootErased& erased) {
  return json{{"partition", erased.partition},
              {"erased_blocks", erased.erased_blocks},
              {"failed_blocks", erased.failed_blocks},
              {"was_on", erased.was_on}};
}

json to_json(const BackupReport& report) {
  const fs::BackupInfo& info = report.info;
  return json{
      {"file_system", report.file_system},       {"backup_valid", info.valid},
      {"backup_count", info.backup_count},       {"restore_count", info.restore_count},
      {"probe_counts", info.probe_counts},       {"page_count", info.page_count},
      {"data_bad_blocks", info.data_bad_blocks}, {"info_bad_blocks", info.info_bad_blocks},
      {"restore_pending", info.restore_pending}, {"restore_in_progress", info.restore_in_progress},
      {"restore_probe", info.restore_probe},     {"boot_attempts", info.boot_attempts},
      {"generation", info.generation},           {"image_bytes", info.image_bytes},
      {"image_blocks", info.image_blocks},       {"files", info.files}};
}

json to_json(const SimReport& report) {
  return json{{"sim", report.state},
              {"changed", report.changed},
              {"pin_enabled", report.pin_enabled},
              {"pin_retries", report.pin_retries},
              {"puk_retries", report.puk_retries}};
}

json to_json(const NetworkReport& report) {
  return json{{"latency_ms", report.latency_ms},     {"bandwidth_kbps", report.bandwidth_kbps},
              {"udp_loss", report.udp_loss_percent}, {"coverage", report.coverage},
              {"registered", report.registered},     {"loss_seed", report.loss_seed}};
}

json to_json(const GnssReport& report) {
  return json{{"session", report.session},     {"fixed", report.fixed},
              {"signal", report.signal},       {"latitude", report.latitude},
              {"longitude", report.longitude}, {"altitude", report.altitude_m}};
}

json to_json(const SmsDelivered& delivered) {
  if (delivered.direct) return json{{"direct", true}};
  return json{{"direct", false}, {"storage", delivered.storage}, {"index", delivered.index}};
}

json to_json(const std::vector<SmsRecord>& outbox) {
  json messages = json::array();
  for (const auto& m : outbox) {
    const json timestamp = {{"seconds", m.timestamp_us / 1000000},
                            {"microseconds", m.timestamp_us % 1000000}};
    messages.push_back({{"to", m.to},
                        {"mr", m.mr},
                        {"text", m.text},
                        {"alphabet", m.alphabet},
                        {"pdu", m.pdu},
                        {"timestamp", timestamp}});
  }
  return json{{"messages", std::move(messages)}};
}

namespace {

// A rule as inject's `rule` spells it, plus its id and progress.
json armed_rule_json(const nand::ArmedRule& armed) {
  const nand::FaultRule& r = armed.rule;
  json ops = json::array();
  for (const auto kind : {nand::OpKind::read, nand::OpKind::program, nand::OpKind::erase}) {
    if ((r.ops & (1U << static_cast<unsigned>(kind))) != 0) ops.push_back(nand::to_string(kind));
  }
  json out = {{"id", armed.id},
              {"effect", nand::to_string(r.effect)},
              {"ops", ops},
              {"trigger", nand::to_string(r.trigger)},
              {"max-fires", r.max_fires},
              {"matches", armed.matches},
              {"fires", armed.fires}};
  if (r.trigger == nand::Trigger::nth_match) out["n"] = r.n;
  if (r.trigger == nand::Trigger::probability) out["p"] = r.p;
  if (r.partition) out["partition"] = *r.partition;
  if (r.block_first) out["block-first"] = *r.block_first;
  if (r.block_last) out["block-last"] = *r.block_last;
  if (r.page) out["page"] = *r.page;
  if (r.effect == nand::FaultEffect::power_cut) out["cut"] = nand::to_string(r.cut);
  if (r.effect == nand::FaultEffect::bit_flips) out["bits"] = r.bits;
  return out;
}

}  // namespace

json to_json(const std::vector<nand::ArmedRule>& rules) {
  json list = json::array();
  for (const auto& rule : rules)
    list.push_back(armed_rule_json(rule));
  return json{{"faults", list}};
}

json to_json(const std::vector<std::uint32_t>& disarmed) {
  return json{{"disarmed", disarmed}};
}

}  // namespace vmodem::sim::control
