#include "campaign/scenario.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include <vmodem/fota/digest.hpp>
#include <vmodem/nand/campaign.hpp>
#include <vmodem/simulator/profile.hpp>

#include "campaign/scenario_yaml.hpp"
#include "host_file.hpp"
#include "json_reader.hpp"

namespace vmodem::sim::campaign {

namespace {

constexpr const char* kSchema = "README.md, \"Power-cut campaigns over your own flow\"";
constexpr std::uint32_t kMaxTimeoutMs = 3'600'000;

// What a scenario may name, read as hostile input (host_file.hpp): a
// regular file of at most this many bytes — a FIFO, /dev/zero or a
// directory is refused with the reason, not waited on or read forever.
constexpr std::uint64_t kMaxScenarioBytes = 4 << 20;
constexpr std::uint64_t kMaxDataBytes = 256 << 20;  // an upload: up to a whole UFS

tl::expected<std::string, std::string> read_text(const std::filesystem::path& path,
                                                 std::uint64_t max_bytes) {
  auto bytes = read_host_file(path, max_bytes);
  if (!bytes) return tl::unexpected(bytes.error());
  return std::string(bytes->begin(), bytes->end());
}

// A step's data: inline, or a file relative to the scenario's directory.
void read_data(JsonReader& r, AtStep& step, const std::filesystem::path& base) {
  const bool inline_data = r.has("data");
  const bool file_data = r.has("data_file");
  if (inline_data && file_data) {
    r.fail("data_file", "give either data or data_file, not both");
    return;
  }
  if (inline_data) step.data = r.string("data");
  if (!file_data) return;
  const std::filesystem::path name = r.string("data_file");
  if (!r.ok()) return;
  const auto path = name.is_absolute() ? name : base / name;
  auto text = read_text(path, kMaxDataBytes);
  if (!text) {
    r.fail("data_file", text.error());
    return;
  }
  step.data = std::move(*text);
}

// "{size}" in a command line stands for the length of the step's data, so
// an upload's line need not change when its file does.
void expand_size(AtStep& step) {
  static constexpr std::string_view kSize = "{size}";
  if (!step.data) return;
  for (auto at = step.send.find(kSize); at != std::string::npos; at = step.send.find(kSize, at))
    step.send.replace(at, kSize.size(), std::to_string(step.data->size()));
}

AtStep read_step(JsonReader& r, const std::filesystem::path& base) {
  AtStep step;
  if (r.has("run")) {
    step.kind = AtStep::Kind::host;
    step.run = r.string("run");
    if (r.ok() && step.run.empty()) r.fail("run", "expected a shell command line, got \"\"");
    step.timeout_ms = static_cast<std::uint32_t>(r.integer("timeout_ms", 1, kMaxTimeoutMs, 60000));
    std::error_code ec;
    step.dir = std::filesystem::absolute(base.empty() ? "." : base, ec);
  } else if (r.has("wait_urc")) {
    step.kind = AtStep::Kind::wait_urc;
    step.urc = r.string("wait_urc");
    if (r.ok() && step.urc.empty()) r.fail("wait_urc", "expected a URC line, got \"\"");
    step.timeout_ms = static_cast<std::uint32_t>(r.integer("timeout_ms", 1, kMaxTimeoutMs, 60000));
  } else {
    step.send = r.string("send");
    if (r.ok() && step.send.empty()) r.fail("send", "expected a command line, got \"\"");
    if (r.ok() && step.send.find_first_of("\r\n") != std::string::npos)
      r.fail("send", "expected one command line (no CR or LF: the runner ends it)");
    step.expect = r.string("expect", std::string("OK"));
    step.timeout_ms = static_cast<std::uint32_t>(r.integer("timeout_ms", 1, kMaxTimeoutMs, 5000));
    read_data(r, step, base);
    expand_size(step);
  }
  r.finish(kSchema);
  return step;
}

std::vector<AtStep> read_steps(JsonReader& parent, const std::string& key, bool required,
                               const std::filesystem::path& base) {
  std::vector<AtStep> steps;
  if (!required && !parent.has(key)) return steps;
  for (JsonReader& item : parent.array(key)) {
    steps.push_back(read_step(item, base));
    parent.absorb(item);
    if (!parent.ok()) break;
  }
  return steps;
}

void read_modes(JsonReader& r, std::vector<nand::CutMode>& modes) {
  if (!r.has("modes")) return;
  const auto names = r.string_array("modes");
  if (r.ok() && names.empty()) r.fail("modes", "expected at least one cut mode");
  if (!r.ok()) return;
  modes.clear();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto mode = nand::campaign::cut_mode_from_string(names[i]);
    if (!mode) {
      r.fail("modes[" + std::to_string(i) + "]",
             "expected torn_partial, torn_unstable, torn_random, before or after, got \"" +
                 names[i] + "\"");
      return;
    }
    modes.push_back(*mode);
  }
}

void read_kinds(JsonReader& r, std::uint8_t& kinds) {
  if (!r.has("kinds")) return;
  const auto names = r.string_array("kinds");
  if (r.ok() && names.empty()) r.fail("kinds", "expected at least one of read, program, erase");
  if (!r.ok()) return;
  kinds = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    bool known = false;
    for (const auto kind : {nand::OpKind::read, nand::OpKind::program, nand::OpKind::erase}) {
      if (names[i] == nand::to_string(kind)) {
        kinds |= static_cast<std::uint8_t>(1U << static_cast<unsigned>(kind));
        known = true;
      }
    }
    if (!known) {
      r.fail("kinds[" + std::to_string(i) + "]",
             "expected read, program or erase, got \"" + names[i] + "\"");
      return;
    }
  }
}

// "recovery": second cuts during each cut's recovery boot.
void read_recovery(JsonReader& parent, CutSpec& cuts) {
  if (!parent.has("recovery")) return;
  JsonReader r = parent.object("recovery");
  if (!parent.ok()) return;
  cuts.recovery_sample = static_cast<std::uint32_t>(r.integer("sample", 1, 100'000, 1));
  read_modes(r, cuts.recovery_modes);
  read_kinds(r, cuts.recovery_kinds);
  r.finish(kSchema);
  parent.absorb(r);
}

CutSpec read_cuts(JsonReader& parent) {
  CutSpec cuts;
  if (!parent.has("cuts")) return cuts;
  JsonReader r = parent.object("cuts");
  if (!parent.ok()) return cuts;
  cuts.sample = static_cast<std::uint32_t>(r.integer("sample", 0, 10'000'000, 0));
  cuts.first = r.integer("first", 1, UINT64_MAX, 1);
  cuts.last = r.integer("last", 0, UINT64_MAX, 0);
  if (r.ok() && cuts.last != 0 && cuts.last < cuts.first)
    r.fail("last", "expected 0 (the action's last) or an operation >= first");
  read_modes(r, cuts.modes);
  if (r.has("partitions")) cuts.partitions = r.string_array("partitions");
  read_kinds(r, cuts.kinds);
  read_recovery(r, cuts);
  r.finish(kSchema);
  parent.absorb(r);
  return cuts;
}

void read_start(JsonReader& r, Scenario& s, const std::filesystem::path& base) {
  auto relative = [&](const std::filesystem::path& p) { return p.is_absolute() ? p : base / p; };
  s.profile = r.string("profile", std::string("bg95-m3"));
  // A profile file, like a data file, is found beside the scenario.
  if (s.profile.ends_with(".json")) s.profile = relative(s.profile).string();
  if (r.has("image") && r.has("state")) r.fail("state", "give either image or state, not both");
  if (r.has("image")) s.image = relative(r.string("image"));
  if (r.has("state")) s.image = relative(r.string("state")) / "nand.img";
  // Checked here, not when the module is made: a missing start is the
  // scenario's fault, and the campaign would build a module first.
  std::error_code ec;
  if (r.ok() && !s.image.empty() && !std::filesystem::is_regular_file(s.image, ec)) {
    if (r.has("state")) {
      r.fail("state",
             "expected a vmodem run state directory holding nand.img; no " + s.image.string());
    } else {
      r.fail("image", "expected a NAND image file; cannot read " + s.image.string());
    }
  }
  if (r.has("power_loss_mode")) {
    const std::string mode = r.string("power_loss_mode");
    if (mode != "real" && mode != "safe" && r.ok())
      r.fail("power_loss_mode", "expected \"real\" or \"safe\", got \"" + mode + "\"");
    s.safe_power_loss = mode == "safe";
  }
  s.seed = r.integer("seed", 0, UINT64_MAX, 1);
}

// The scenario's text and each step's data, each behind its length.
std::string digest_of(std::string_view text, const Scenario& s) {
  fota::Sha256 sha;
  auto add = [&](std::string_view bytes) {
    const std::string length = std::to_string(bytes.size()) + ":";
    sha.update({reinterpret_cast<const std::uint8_t*>(length.data()), length.size()});
    sha.update({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  };
  add(text);
  for (const auto* steps : {&s.setup, &s.action, &s.checks}) {
    for (const AtStep& step : *steps)
      add(step.data.value_or(std::string()));
  }
  return fota::to_hex(sha.peek());
}

}  // namespace

std::string AtStep::label() const {
  if (kind == Kind::host) return "run " + run;
  return kind == Kind::wait_urc ? "wait " + urc : send;
}

std::string ScenarioError::describe() const {
  return field.empty() ? file + ": " + message : file + ": " + field + ": " + message;
}

tl::expected<Scenario, ScenarioError> parse_scenario(std::string_view text,
                                                     const std::filesystem::path& file) {
  nlohmann::json root;
  if (is_yaml_file(file.filename().string())) {
    auto document = yaml_to_json(text);
    if (!document)
      return tl::unexpected(
          ScenarioError{file.string(), "", "not valid YAML: " + document.error()});
    root = std::move(*document);
  } else {
    root = nlohmann::json::parse(text, nullptr, false);
    if (root.is_discarded())
      return tl::unexpected(ScenarioError{file.string(), "", "not valid JSON"});
  }
  const std::filesystem::path base = file.parent_path();
  Scenario s;
  s.file = file;
  JsonReader r(root, "");
  read_start(r, s, base);
  s.setup = read_steps(r, "setup", false, base);
  s.action = read_steps(r, "action", true, base);
  if (r.ok() && s.action.empty()) r.fail("action", "expected at least one step");
  s.cuts = read_cuts(r);
  s.checks = read_steps(r, "checks", false, base);
  r.finish(kSchema);
  if (!r.ok())
    return tl::unexpected(ScenarioError{file.string(), r.error()->field, r.error()->message});
  s.digest = digest_of(text, s);
  return s;
}

std::optional<ScenarioError> check_with_profile(const Scenario& scenario) {
  const auto profile = load_profile(scenario.profile);
  if (!profile) return ScenarioError{scenario.file.string(), "profile", profile.error().describe()};
  const auto& table = profile->partitions;
  for (std::size_t i = 0; i < scenario.cuts.partitions.size(); ++i) {
    const std::string& name = scenario.cuts.partitions[i];
    const bool known = std::any_of(table.begin(), table.end(),
                                   [&](const PartitionEntry& p) { return p.spec.name == name; });
    if (known) continue;
    std::string names;
    for (const auto& p : table)
      names += (names.empty() ? "" : ", ") + p.spec.name;
    std::string message = "expected a partition of " + profile->name;
    message.append(" (").append(names).append("), got \"").append(name).append("\"");
    return ScenarioError{scenario.file.string(), "cuts.partitions[" + std::to_string(i) + "]",
                         std::move(message)};
  }
  return std::nullopt;
}

tl::expected<Scenario, ScenarioError> load_scenario(const std::filesystem::path& file) {
  auto text = read_text(file, kMaxScenarioBytes);
  if (!text) return tl::unexpected(ScenarioError{file.string(), "", text.error()});
  return parse_scenario(*text, file);
}

bool has_host_steps(const Scenario& scenario) {
  for (const auto* steps : {&scenario.setup, &scenario.action, &scenario.checks}) {
    for (const auto& step : *steps)
      if (step.kind == AtStep::Kind::host) return true;
  }
  return false;
}

}  // namespace vmodem::sim::campaign
