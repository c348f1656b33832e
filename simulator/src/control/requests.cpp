#include "control/requests.hpp"

#include <array>
#include <map>

#include "control/schema.hpp"

namespace vmodem::sim::control {

namespace {

using nlohmann::json;

nand::CutMode cut_mode(const std::string& name) {
  static const std::map<std::string, nand::CutMode, std::less<>> modes = {
      {"before", nand::CutMode::before},
      {"after", nand::CutMode::after},
      {"torn_partial", nand::CutMode::torn_partial},
      {"torn_unstable", nand::CutMode::torn_unstable},
      {"torn_random", nand::CutMode::torn_random}};
  return modes.at(name);  // the schema allowed only these names
}

// The operation-kind mask of nand::FaultRule::ops from ["read", ...].
tl::expected<std::uint8_t, ControlError> op_mask(std::string_view name, const json& list) {
  std::uint8_t mask = 0;
  for (const auto& op : list) {
    const auto& text = op.get_ref<const std::string&>();
    const auto kind = text == "read"      ? nand::OpKind::read
                      : text == "program" ? nand::OpKind::program
                                          : nand::OpKind::erase;
    mask |= static_cast<std::uint8_t>(1U << static_cast<unsigned>(kind));
  }
  if (mask == 0) return tl::unexpected(invalid_parameter(name, "name at least one operation"));
  return mask;
}

std::uint32_t u32(const json& args, const char* name, std::uint32_t fallback) {
  return args.contains(name) ? args[name].get<std::uint32_t>() : fallback;
}

tl::expected<nand::FaultRule, ControlError> fault_rule(const json& r) {
  nand::FaultRule rule;
  if (r.contains("ops")) {
    auto mask = op_mask("rule.ops", r["ops"]);
    if (!mask) return tl::unexpected(mask.error());
    rule.ops = *mask;
  }
  if (r.contains("partition")) rule.partition = r["partition"].get<std::string>();
  if (r.contains("block-first")) rule.block_first = r["block-first"].get<std::uint32_t>();
  if (r.contains("block-last")) rule.block_last = r["block-last"].get<std::uint32_t>();
  if (r.contains("page")) rule.page = r["page"].get<std::uint32_t>();
  const std::string trigger = r.value("trigger", std::string("nth_match"));
  rule.trigger = trigger == "probability"   ? nand::Trigger::probability
                 : trigger == "every_match" ? nand::Trigger::every_match
                                            : nand::Trigger::nth_match;
  rule.n = r.value("n", std::uint64_t{1});
  if (r.contains("p")) {
    rule.p = r["p"].get<double>();
    if (!(rule.p >= 0.0 && rule.p <= 1.0))
      return tl::unexpected(invalid_parameter("rule.p", "must be within 0..1"));
  }
  if (rule.trigger == nand::Trigger::probability && !r.contains("p"))
    return tl::unexpected(invalid_parameter("rule.p", "required for trigger probability"));
  rule.max_fires = u32(r, "max-fires", 1);
  static const std::map<std::string, nand::FaultEffect, std::less<>> effects = {
      {"power_cut", nand::FaultEffect::power_cut},
      {"program_fail", nand::FaultEffect::program_fail},
      {"erase_fail", nand::FaultEffect::erase_fail},
      {"bit_flips", nand::FaultEffect::bit_flips},
      {"uncorrectable", nand::FaultEffect::uncorrectable},
      {"unstable", nand::FaultEffect::unstable}};
  rule.effect = effects.at(r["effect"].get<std::string>());
  if (r.contains("cut")) rule.cut = cut_mode(r["cut"].get<std::string>());
  rule.bits = u32(r, "bits", 1);
  return rule;
}

struct KindNeeds {
  const char* kind;
  InjectRequest::Kind value;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const std::vector<KindNeeds>& kind_table() {
  using K = InjectRequest::Kind;
  static const std::vector<KindNeeds> table = {
      {"bit-flips", K::bit_flips, {"partition", "block", "page"}, {"bits", "sector"}},
      {"uncorrectable", K::uncorrectable, {"partition", "block", "page"}, {"sector"}},
      {"unstable", K::unstable, {"partition", "block", "page"}, {}},
      {"bad-block", K::bad_block, {"partition", "block"}, {}},
      {"erase-partition", K::erase_partition, {"partition"}, {}},
      {"corrupt-file", K::corrupt_file, {"file-system", "path"}, {}},
      {"rule", K::rule, {"rule"}, {}},
  };
  return table;
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

json or_empty(const json& arguments) {
  return arguments.is_object() ? arguments : json::object();
}

}  // namespace

// Arguments already match the schema (types); this checks what it cannot.
tl::expected<NetworkRequest, ControlError> network_request(const json& arguments) {
  const json args = or_empty(arguments);
  if (args.value("detach", false) && args.value("attach", false))
    return tl::unexpected(invalid_parameter("attach", "cannot be combined with 'detach'"));
  NetworkRequest request;
  if (args.contains("latency-ms")) request.latency_ms = args["latency-ms"].get<std::uint64_t>();
  if (args.contains("bandwidth-kbps"))
    request.bandwidth_kbps = args["bandwidth-kbps"].get<std::uint64_t>();
  if (args.contains("udp-loss")) {
    const double loss = args["udp-loss"].get<double>();
    if (!(loss >= 0.0 && loss <= 100.0))
      return tl::unexpected(invalid_parameter("udp-loss", "a percentage: 0 to 100"));
    request.udp_loss_percent = loss;
  }
  if (args.value("detach", false)) request.coverage = false;
  if (args.value("attach", false)) request.coverage = true;
  request.clear = args.value("clear", false);
  return request;
}

tl::expected<GnssRequest, ControlError> gnss_request(const json& arguments) {
  const json args = or_empty(arguments);
  if (args.value("signal", false) && args.value("no-signal", false))
    return tl::unexpected(invalid_parameter("signal", "cannot be combined with 'no-signal'"));
  GnssRequest request;
  if (args.contains("latitude")) request.latitude = args["latitude"].get<double>();
  if (args.contains("longitude")) request.longitude = args["longitude"].get<double>();
  if (args.contains("altitude")) request.altitude_m = args["altitude"].get<double>();
  if (args.value("signal", false)) request.signal = true;
  if (args.value("no-signal", false)) request.signal = false;
  return request;
}

tl::expected<PowerCutRequest, ControlError> power_cut_request(const json& arguments) {
  const json args = or_empty(arguments);
  PowerCutRequest request;
  const char* selector = nullptr;
  for (const char* name : {"after-operations", "partition", "window"}) {
    if (!args.contains(name)) continue;
    if (selector) {
      return tl::unexpected(invalid_parameter(
          name, std::string("cannot be combined with '") + selector + "': choose one"));
    }
    selector = name;
  }
  const std::string chosen = selector ? selector : "";
  for (const auto& [name, needs] : std::array<std::pair<const char*, const char*>, 3>{
           {{"op", "partition"}, {"nth", "partition"}, {"seed", "window"}}}) {
    if (args.contains(name) && chosen != needs) {
      return tl::unexpected(invalid_parameter(name, std::string("only with '") + needs + "'"));
    }
  }
  if (chosen == "after-operations") {
    request.when = PowerCutRequest::When::after_operations;
    request.operations = args["after-operations"].get<std::uint64_t>();
  } else if (chosen == "partition") {
    request.when = PowerCutRequest::When::partition_operation;
    request.partition = args["partition"].get<std::string>();
    request.operations = args.value("nth", std::uint64_t{1});
    if (args.contains("op")) {
      auto mask = op_mask("op", args["op"]);
      if (!mask) return tl::unexpected(mask.error());
      request.op_kinds = *mask;
    }
  } else if (chosen == "window") {
    request.when = PowerCutRequest::When::random_window;
    request.window_first = args["window"][0].get<std::uint64_t>();
    request.window_last = args["window"][1].get<std::uint64_t>();
    if (request.window_first > request.window_last)
      return tl::unexpected(invalid_parameter("window", "first must not exceed last"));
    if (args.contains("seed")) request.seed = seed_value(args["seed"]);
  }
  if (args.contains("mode")) request.mode = cut_mode(args["mode"].get<std::string>());
  return request;
}

tl::expected<InjectRequest, ControlError> inject_request(const json& arguments) {
  const json args = or_empty(arguments);
  const std::string kind = args.value("kind", std::string());
  const auto& table = kind_table();
  const auto needs = std::find_if(table.begin(), table.end(),
                                  [&kind](const KindNeeds& k) { return kind == k.kind; });
  if (needs == table.end()) return tl::unexpected(invalid_parameter("kind", "missing"));
  for (const auto& [name, value] : args.items()) {
    if (name != "kind" && !contains(needs->required, name) && !contains(needs->optional, name))
      return tl::unexpected(invalid_parameter(name, "does not apply to kind " + kind));
  }
  for (const auto& name : needs->required) {
    if (!args.contains(name))
      return tl::unexpected(invalid_parameter(name, "required for kind " + kind));
  }
  InjectRequest request;
  request.kind = needs->value;
  request.partition = args.value("partition", std::string());
  request.block = u32(args, "block", 0);
  request.page = u32(args, "page", 0);
  request.bits = u32(args, "bits", 1);
  if (args.contains("sector")) request.sector = args["sector"].get<std::uint32_t>();
  request.file_system = args.value("file-system", std::string());
  request.path = args.value("path", std::string());
  if (args.contains("rule")) {
    auto rule = fault_rule(args["rule"]);
    if (!rule) return tl::unexpected(rule.error());
    request.rule = std::move(*rule);
  }
  return request;
}

bool is_target_command(std::string_view command) {
  return command != "query-commands" && command != "subscribe" && command != "unsubscribe" &&
         command != "quit";
}

namespace {

JsonResult call_sync(ControlTarget& target, std::string_view command, const json& args) {
  if (command == "status") return as_json(target.status());
  if (command == "power-on") return as_json(target.power_on());
  if (command == "power-off") return as_json(target.power_off());
  if (command == "reset") return as_json(target.reset());
  if (command == "stats") return as_json(target.stats());
  if (command == "backup-info")
    return as_json(target.backup_info(args.value("file-system", std::string())));
  if (command == "crc32") return as_json(target.file_crc32(args.value("path", std::string())));
  if (command == "checksum-update")
    return as_json(target.checksum_update(args.value("path", std::string())));
  if (command == "app-fota") return as_json(target.app_fota(args.value("path", std::string())));
  if (command == "fastboot-erase")
    return as_json(target.fastboot_erase(args.value("partition", std::string())));
  if (command == "sim-remove") return as_json(target.sim_remove());
  if (command == "sim-insert") return as_json(target.sim_insert(args.value("fresh", false)));
  if (command == "power-cut") {
    auto request = power_cut_request(args);
    if (!request) return tl::unexpected(request.error());
    return as_json(target.power_cut(*request));
  }
  if (command == "gnss") {
    auto request = gnss_request(args);
    if (!request) return tl::unexpected(request.error());
    return as_json(target.gnss(*request));
  }
  if (command == "sms-deliver") {
    SmsDeliverRequest request{.from = args.value("from", std::string()), .text = {}, .pdu = {}};
    if (args.contains("text")) request.text = args["text"].get<std::string>();
    if (args.contains("pdu")) request.pdu = args["pdu"].get<std::string>();
    return as_json(target.sms_deliver(request));
  }
  if (command == "sms-outbox") return as_json(target.sms_outbox(args.value("clear", false)));
  if (command == "faults") return as_json(target.faults());
  if (command == "disarm") {
    const bool all = args.value("all", false);
    if (all == args.contains("id"))
      return tl::unexpected(invalid_parameter("id", "name one rule, or all"));
    if (all) return as_json(target.disarm(std::nullopt));
    return as_json(target.disarm(args["id"].get<std::uint32_t>()));
  }
  if (command == "network") {
    auto request = network_request(args);
    if (!request) return tl::unexpected(request.error());
    return as_json(target.network(*request));
  }
  if (command == "inject") {
    auto request = inject_request(args);
    if (!request) return tl::unexpected(request.error());
    return as_json(target.inject(*request));
  }
  return tl::unexpected(ControlError{std::string(kCommandNotFound),
                                     "command '" + std::string(command) + "' not found"});
}

}  // namespace

void call_target(ControlTarget& target, std::string_view command, const json& arguments,
                 JsonReply done) {
  const json args = or_empty(arguments);
  auto written = [done](Controlled<SnapshotDone> result) { done(as_json(result)); };
  if (command == "snapshot-save") {
    target.snapshot_save(args.value("path", std::string()), std::move(written));
    return;
  }
  if (command == "snapshot-load") {
    target.snapshot_load(args.value("path", std::string()), std::move(written));
    return;
  }
  if (command == "app-sync") {
    target.app_sync([done](Controlled<AppSyncDone> result) { done(as_json(result)); });
    return;
  }
  done(call_sync(target, command, args));
}

}  // namespace vmodem::sim::control
