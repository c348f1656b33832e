#include "control/schema.hpp"

#include <algorithm>

namespace vmodem::sim::control {

namespace {

using T = ArgType;

const std::vector<std::string_view> kCutModes = {"before", "after", "torn_partial", "torn_unstable",
                                                 "torn_random"};
const std::vector<std::string_view> kOpKinds = {"read", "program", "erase"};

// Members of inject's `rule`: nand::FaultRule, spelled as nand/fault.hpp does.
std::vector<ArgSpec> rule_fields() {
  return {
      {"effect",
       T::string,
       true,
       "What a firing does",
       {"power_cut", "program_fail", "erase_fail", "bit_flips", "uncorrectable", "unstable"}},
      {"ops", T::string_list, false, "Operation kinds matched (default: all)", kOpKinds},
      {"partition", T::string, false, "Limit to this partition's blocks"},
      {"block-first",
       T::integer,
       false,
       "First physical block matched (inclusive)",
       {},
       std::nullopt,
       UINT32_MAX},
      {"block-last",
       T::integer,
       false,
       "Last physical block matched (inclusive)",
       {},
       std::nullopt,
       UINT32_MAX},
      {"page", T::integer, false, "Page in block matched", {}, std::nullopt, UINT32_MAX},
      {"trigger",
       T::string,
       false,
       "When a match fires (default nth_match)",
       {"nth_match", "probability", "every_match"}},
      {"n", T::integer, false, "nth_match: fire at this match (default 1)", {}, 1},
      {"p", T::number, false, "probability: chance per match, 0..1"},
      {"max-fires",
       T::integer,
       false,
       "Fires before the rule is spent (default 1, 0 = unlimited)",
       {},
       std::nullopt,
       UINT32_MAX},
      {"cut", T::string, false, "power_cut: how the operation is torn (default torn_random)",
       kCutModes},
      {"bits", T::integer, false, "bit_flips: flips per firing (default 1)", {}, 1, 64},
  };
}

std::vector<CommandSpec> build_table() {
  return {
      {"query-commands",
       "List every command with its arguments, result and errors",
       {},
       "[{name, description, arguments:[{name, type, required, description, allowed?, min?, "
       "max?, items?, fields?}], returns, errors}]",
       {}},
      {"status",
       "Power state, identity, ports and counters of the module",
       {},
       "{power: off|booting|rdy|app_rdy|running, model, profile, seed, ports:{name:path}, "
       "uptime_ms, boot_complete, boots, sim: absent|pin_required|puk_required|blocked|ready, "
       "files_restored (QuecPython: by the last boot), files_restored_total, app_updates_total, "
       "last_app_update, ...}",
       {kGenericError}},
      {"power-on", "Boot the module (OFF -> BOOTING -> RDY -> APP RDY)", {}, "{}", {kDeviceBusy}},
      {"power-off", "Orderly power down, like AT+QPOWD=1", {}, "{}", {kDeviceNotActive}},
      {"power-cut",
       "Cut the power now, or arm a cut at a future NAND operation. Choose at most one of "
       "after-operations, partition, window (none: cut now)",
       {
           {"after-operations", T::integer, false, "Cut at the Nth NAND operation from now", {}, 1},
           {"partition", T::string, false,
            "Cut at the nth matching operation inside this partition"},
           {"op", T::string_list, false, "With partition: operation kinds counted (default all)",
            kOpKinds},
           {"nth",
            T::integer,
            false,
            "With partition: which matching operation (default 1)",
            {},
            1},
           {"window",
            T::integer_list,
            false,
            "Cut at a random operation in [first, last] from now (first >= 1)",
            {},
            1,
            std::nullopt,
            2},
           {"seed", T::seed, false, "With window: seed of the draw (default: from the run seed)"},
           {"mode", T::string, false, "How the struck operation is torn (default torn_random)",
            kCutModes},
       },
       "{cut: true} for a cut now, else {armed: {...}} describing the armed cut",
       {kDeviceNotActive, kGenericError}},
      {"faults",
       "The fault rules armed now (power-cut and inject rule), oldest first; a rule that fired "
       "its last time is gone, a count-down power cut goes with the power-on it was armed in",
       {},
       "{faults: [{id, effect, ops, trigger, n|p, partition?, cut?, matches, fires, ...}]}",
       {}},
      {"disarm",
       "Remove an armed fault rule (its id from power-cut, inject or faults), or all of them",
       {{"id",
         T::integer,
         false,
         "The rule to remove",
         {},
         std::nullopt,
         UINT32_MAX,
         std::nullopt,
         {},
         /*positional=*/true},
        {"all", T::boolean, false, "Remove every armed rule"}},
       "{disarmed: [ids]}",
       {kInvalidParameter}},
      {"reset",
       "Restart the module, like AT+CFUN=1,1 (USB ports re-enumerate)",
       {},
       "{}",
       {kDeviceNotActive, kDeviceBusy}},
      {"inject",
       "Damage the flash or a file system. partition+block+page for bit-flips, uncorrectable, "
       "unstable; partition+block for bad-block; partition for erase-partition; "
       "file-system+path for corrupt-file; rule for rule",
       {
           {"kind",
            T::string,
            true,
            "The damage",
            {"bit-flips", "uncorrectable", "unstable", "bad-block", "erase-partition",
             "corrupt-file", "rule"}},
           {"partition", T::string, false, "Partition name (all kinds but corrupt-file, rule)"},
           {"block",
            T::integer,
            false,
            "Logical block in the partition (bad blocks skipped)",
            {},
            std::nullopt,
            UINT32_MAX},
           {"page", T::integer, false, "Page in the block", {}, std::nullopt, UINT32_MAX},
           {"bits", T::integer, false, "bit-flips: how many bits (default 1)", {}, 1, 64},
           {"sector",
            T::integer,
            false,
            "bit-flips, uncorrectable: the ECC sector (default: drawn from the seed)",
            {},
            std::nullopt,
            UINT32_MAX},
           {"file-system", T::string, false,
            "corrupt-file: which file system (its name, alias or partition in the profile: "
            "modem, ap, ...)"},
           {"path", T::string, false, "corrupt-file: the file, inside that file system"},
           {"rule",
            T::object,
            false,
            "rule: a general NAND fault rule",
            {},
            std::nullopt,
            std::nullopt,
            std::nullopt,
            rule_fields()},
       },
       "{injected: {...}} describing what was damaged (rule: {rule_id})",
       {kDeviceNotActive, kGenericError}},
      {"stats",
       "NAND statistics (as `vmodem image stats --json`) and file-system counters",
       {},
       "{counters: {operations, reads, programs, erases, ...}, partitions: [{name, first_block, "
       "blocks, reads, programs, erases, factory_bad, grown_bad, erase_count: {min, max, mean}}], "
       "wear_histogram: [...], bad_blocks: {factory, grown}, damaged_pages, unstable_pages, "
       "modem_fs / ap_fs: {total_bytes, free_bytes, pages_in_use, bad_blocks} while mounted}",
       {kGenericError}},
      {"snapshot-save",
       "Save the whole NAND to an image file",
       {{"path", T::path, true, "Absolute path of the image file to write"}},
       "{path, bytes}",
       {kGenericError}},
      {"snapshot-load",
       "Replace the whole NAND with an image file (module must be off)",
       {{"path", T::path, true, "Absolute path of the image file to read"}},
       "{path}",
       {kDeviceBusy, kGenericError}},
      {"backup-info",
       "The backup record of a file system (valid, counters, restore counts)",
       {{"file-system",
         T::string,
         false,
         "Which file system (its name, alias or partition in the profile: modem, ap, ...; "
         "default: the AP file system)",
         {},
         std::nullopt,
         std::nullopt,
         std::nullopt,
         {},
         /*positional=*/true}},
       "{backup_valid, backup_count, restore_count, probe_counts[10], page_count, ...}",
       {kDeviceNotActive, kGenericError}},
      {"crc32",
       "QuecPython: the CRC-32 of a file in /usr, as file_crc32.calc computes it",
       {{"path",
         T::string,
         true,
         "The file as the application names it: /usr/<path>",
         {},
         std::nullopt,
         std::nullopt,
         std::nullopt,
         {},
         /*positional=*/true}},
       "{path, crc32, crc32_hex, updated: false}",
       {kInvalidParameter, kDeviceNotActive, kGenericError}},
      {"checksum-update",
       "QuecPython: set a listed file's entry in /usr/checksum.json to its CRC-32 now, so the "
       "next boot keeps an intended edit",
       {{"path",
         T::string,
         true,
         "The file as the application names it: /usr/<path> (listed in /usr/checksum.json)",
         {},
         std::nullopt,
         std::nullopt,
         std::nullopt,
         {},
         /*positional=*/true}},
       "{path, crc32, crc32_hex, updated}",
       {kInvalidParameter, kDeviceNotActive, kGenericError}},
      {"app-sync",
       "EC2x QuecOpen: run the application sync between system and usr_data now, as running "
       "the backup script by hand does (the boot runs it too; event APP_SYNC), or the module's "
       "boot script (run --boot-script; event BOOT_SCRIPT)",
       {},
       "{outcome: in_step|to_backup|to_system|unparsable_tag, system_version, backup_version, "
       "files, bytes}; with a boot script {outcome: script, exit_code, timed_out, ms}",
       {kInvalidParameter, kDeviceNotActive, kDeviceBusy, kGenericError}},
      {"fastboot-erase",
       "Erase a whole partition as `fastboot erase` does: the module powers off (in order), "
       "every good block is erased, and it stays off until power-on",
       {{"partition",
         T::string,
         true,
         "The partition (vmodem image partitions lists them)",
         {},
         std::nullopt,
         std::nullopt,
         std::nullopt,
         {},
         /*positional=*/true}},
       "{partition, erased_blocks, failed_blocks, was_on}",
       {kInvalidParameter, kGenericError}},
      {"app-fota",
       "QuecPython: stage an application package (vmodem delta make --files) in /usr; the next "
       "boot applies it (journaled) and writes the new CRC-32s into /usr/checksum.json",
       {{"path",
         T::path,
         true,
         "Absolute path of the package file on the host",
         {},
         std::nullopt,
         std::nullopt,
         std::nullopt,
         {},
         /*positional=*/true}},
       "{path, bytes, added, changed, removed, applies}",
       {kInvalidParameter, kDeviceNotActive, kGenericError}},
      {"sim-remove",
       "Take the SIM card out of the slot (+CPIN: NOT READY; registration and PDP contexts lost)",
       {},
       "{sim: absent, changed, pin_enabled, pin_retries, puk_retries}",
       {}},
      {"sim-insert",
       "Put the SIM card back (+CPIN: READY, or SIM PIN when locked; registration regained)",
       {{"fresh", T::boolean, false,
         "A new card as the profile issues it: lock, PIN and retries reset"}},
       "{sim: ready|pin_required|puk_required|blocked, changed, pin_enabled, pin_retries, "
       "puk_retries}",
       {}},
      {"network",
       "The module's network: latency, a bandwidth cap and UDP loss on every socket; "
       "coverage lost (detach: registration and PDP contexts go) or back. No arguments: "
       "show it",
       {{"latency-ms", T::integer, false, "One-way delay added in each direction", {}, 0, 600000},
        {"bandwidth-kbps",
         T::integer,
         false,
         "Cap in kbit/s in each direction (0: none)",
         {},
         0,
         10000000},
        {"udp-loss", T::number, false,
         "Percentage of UDP datagrams (and pings) lost, each direction, drawn from the seed"},
        {"detach", T::boolean, false,
         "Coverage lost: +CEREG: 2, PDP contexts down with +QIURC: \"pdpdeact\""},
        {"attach", T::boolean, false, "Coverage back: registered again (+CEREG: 1)"},
        {"clear", T::boolean, false, "A perfect link with coverage first"}},
       "{latency_ms, bandwidth_kbps, udp_loss, coverage, registered, loss_seed}",
       {kInvalidParameter}},
      {"gnss",
       "The GNSS receiver's world: the module's position and whether it sees the sky. No "
       "arguments: show it",
       {{"latitude", T::number, false, "Degrees, -90 to 90 (with --longitude)"},
        {"longitude", T::number, false, "Degrees, -180 to 180 (with --latitude)"},
        {"altitude", T::number, false, "Metres"},
        {"no-signal", T::boolean, false, "The sky is hidden: AT+QGPSLOC answers 516"},
        {"signal", T::boolean, false, "The sky is back: a running session fixes"}},
       "{session, fixed, signal, latitude, longitude, altitude}",
       {kInvalidParameter}},
      {"sms-deliver",
       "An SMS from the network: stored in the module's <mem3> (AT+CPMS) and announced with "
       "+CMTI, or handed to the host with +CMT, as AT+CNMI asks",
       {{"from", T::string, false,
         "Sender: a number (+4917..., 0170...) or an alphanumeric name of up to 11 GSM "
         "characters; required with text, replaces the PDU's TP-OA"},
        {"text", T::string, false,
         "The message, UTF-8: one SMS (160 GSM 7-bit or 70 UCS2 characters)"},
        {"pdu", T::string, false, "Instead of text: an SMS-DELIVER TPDU in hex, no SCA field"}},
       "{direct: false, storage: SM|ME, index} | {direct: true}",
       {kInvalidParameter, kDeviceNotActive}},
      {"sms-outbox",
       "The SMS the host sent (AT+CMGS, AT+CMSS) since the daemon started, oldest first",
       {{"clear", T::boolean, false, "Empty it after listing"}},
       "{messages: [{to, mr, text, alphabet: gsm7|8bit|ucs2, pdu, timestamp: {seconds, "
       "microseconds}}]}",
       {}},
      {"subscribe",
       "Receive events on this connection (POWER_STATE, URC, RESTORE, NAND_FAULT, "
       "NV_SETTING_INVALID {key, reason, file}: a saved setting that did not validate at boot "
       "and reads as its default, ...). Only subscribed connections get events. Calling again "
       "replaces the filter",
       {{"events", T::string_list, false, "Only these event names (default: all)"}},
       "{events: [names] | \"all\"}",
       {}},
      {"unsubscribe",
       "Stop receiving events on this connection",
       {},
       "{dropped: events dropped on this connection because it read too slowly}",
       {}},
      {"quit", "Close this connection (the module keeps running)", {}, "{}", {}},
  };
}

nlohmann::json describe(const ArgSpec& arg) {
  nlohmann::json out = {{"name", arg.name},
                        {"type", to_string(arg.type)},
                        {"required", arg.required},
                        {"description", arg.description}};
  if (!arg.allowed.empty()) out["allowed"] = arg.allowed;
  if (arg.min) out["min"] = *arg.min;
  if (arg.max) out["max"] = *arg.max;
  if (arg.items) out["items"] = *arg.items;
  if (!arg.fields.empty()) {
    out["fields"] = nlohmann::json::array();
    for (const auto& field : arg.fields)
      out["fields"].push_back(describe(field));
  }
  return out;
}

bool is_allowed(const ArgSpec& arg, const std::string& value) {
  return arg.allowed.empty() ||
         std::find(arg.allowed.begin(), arg.allowed.end(), value) != arg.allowed.end();
}

std::string allowed_list(const ArgSpec& arg) {
  std::string out;
  for (const auto& value : arg.allowed)
    out += (out.empty() ? "" : ", ") + std::string(value);
  return out;
}

tl::expected<void, ControlError> check_integer(const std::string& name, const ArgSpec& arg,
                                               const nlohmann::json& value) {
  if (!value.is_number_integer())
    return tl::unexpected(invalid_parameter(name, "expected an integer"));
  if (value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0) {
    return tl::unexpected(invalid_parameter(name, "must not be negative"));
  }
  const auto number = value.get<std::uint64_t>();
  if (arg.min && number < *arg.min)
    return tl::unexpected(invalid_parameter(name, "must be at least " + std::to_string(*arg.min)));
  if (arg.max && number > *arg.max)
    return tl::unexpected(invalid_parameter(name, "must be at most " + std::to_string(*arg.max)));
  return {};
}

tl::expected<void, ControlError> check_seed(const std::string& name, const nlohmann::json& value) {
  if (value.is_string()) {
    if (parse_decimal_u64(value.get_ref<const std::string&>())) return {};
    return tl::unexpected(invalid_parameter(name, "expected a decimal 64-bit number"));
  }
  if (value.is_number_unsigned()) return {};
  return tl::unexpected(invalid_parameter(name, "expected a decimal string or an integer"));
}

tl::expected<void, ControlError> check_string(const std::string& name, const ArgSpec& arg,
                                              const nlohmann::json& value) {
  if (!value.is_string()) return tl::unexpected(invalid_parameter(name, "expected a string"));
  if (!is_allowed(arg, value.get_ref<const std::string&>())) {
    return tl::unexpected(invalid_parameter(name, "expected one of " + allowed_list(arg)));
  }
  return {};
}

tl::expected<void, ControlError> check_members(const std::string& prefix,
                                               const std::vector<ArgSpec>& specs,
                                               const nlohmann::json& object);

tl::expected<void, ControlError> check_value(const std::string& name, const ArgSpec& arg,
                                             const nlohmann::json& value) {
  switch (arg.type) {
    case T::string:
      return check_string(name, arg, value);
    case T::path:
      if (!value.is_string()) return tl::unexpected(invalid_parameter(name, "expected a string"));
      if (value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().front() != '/') {
        return tl::unexpected(invalid_parameter(name, "expected an absolute path"));
      }
      return {};
    case T::integer:
      return check_integer(name, arg, value);
    case T::number:
      if (!value.is_number()) return tl::unexpected(invalid_parameter(name, "expected a number"));
      // No argument takes a negative number (counts, blocks, probabilities).
      if (!(value.get<double>() >= 0.0))
        return tl::unexpected(invalid_parameter(name, "must not be negative"));
      return {};
    case T::boolean:
      if (!value.is_boolean()) return tl::unexpected(invalid_parameter(name, "expected a boolean"));
      return {};
    case T::string_list:
    case T::integer_list: {
      if (!value.is_array()) return tl::unexpected(invalid_parameter(name, "expected an array"));
      if (arg.items && value.size() != *arg.items) {
        return tl::unexpected(
            invalid_parameter(name, "expected " + std::to_string(*arg.items) + " elements"));
      }
      for (const auto& element : value) {
        auto checked = arg.type == T::string_list ? check_string(name, arg, element)
                                                  : check_integer(name, arg, element);
        if (!checked) return checked;
      }
      return {};
    }
    case T::object:
      if (!value.is_object()) return tl::unexpected(invalid_parameter(name, "expected an object"));
      return check_members(name + ".", arg.fields, value);
    case T::seed:
      return check_seed(name, value);
  }
  return {};
}

tl::expected<void, ControlError> check_members(const std::string& prefix,
                                               const std::vector<ArgSpec>& specs,
                                               const nlohmann::json& object) {
  for (const auto& [key, value] : object.items()) {
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&key = key](const ArgSpec& s) { return s.name == key; });
    if (spec == specs.end())
      return tl::unexpected(invalid_parameter(prefix + key, "unknown argument"));
    if (auto checked = check_value(prefix + key, *spec, value); !checked) return checked;
  }
  for (const auto& spec : specs) {
    if (spec.required && !object.contains(spec.name)) {
      return tl::unexpected(invalid_parameter(prefix + std::string(spec.name), "missing"));
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(ArgType type) {
  switch (type) {
    case T::string:
      return "string";
    case T::path:
      return "path";
    case T::integer:
      return "integer";
    case T::number:
      return "number";
    case T::boolean:
      return "boolean";
    case T::string_list:
      return "array<string>";
    case T::integer_list:
      return "array<integer>";
    case T::object:
      return "object";
    case T::seed:
      return "seed";
  }
  return "unknown";
}

std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::uint64_t seed_value(const nlohmann::json& value) {
  if (value.is_string()) return parse_decimal_u64(value.get_ref<const std::string&>()).value_or(0);
  return value.get<std::uint64_t>();
}

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = build_table();
  return table;
}

const CommandSpec* find_command(std::string_view name) {
  const auto& table = command_table();
  const auto it = std::find_if(table.begin(), table.end(),
                               [name](const CommandSpec& c) { return c.name == name; });
  return it == table.end() ? nullptr : &*it;
}

nlohmann::json describe(const CommandSpec& command) {
  nlohmann::json args = nlohmann::json::array();
  for (const auto& arg : command.args)
    args.push_back(describe(arg));
  return {{"name", command.name},
          {"description", command.description},
          {"arguments", std::move(args)},
          {"returns", command.returns},
          {"errors", command.errors}};
}

nlohmann::json describe_commands() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& command : command_table())
    out.push_back(describe(command));
  return out;
}

tl::expected<void, ControlError> validate_arguments(const CommandSpec& command,
                                                    const nlohmann::json& arguments) {
  if (arguments.is_null()) return check_members("", command.args, nlohmann::json::object());
  if (!arguments.is_object()) {
    return tl::unexpected(invalid_parameter("arguments", "expected an object"));
  }
  return check_members("", command.args, arguments);
}

ControlError invalid_parameter(std::string_view name, std::string_view why) {
  return {std::string(kInvalidParameter),
          "parameter '" + std::string(name) + "': " + std::string(why)};
}

}  // namespace vmodem::sim::control
