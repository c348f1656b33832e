// The module's typed answers (control_target.hpp) as the control socket
// writes them: the one place that knows the wire layout of each reply. The
// fields are documented in README ("Control socket") and by query-commands.
#pragma once

#include <functional>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/simulator/control_target.hpp>

namespace vmodem::sim::control {

// A reply on its way to the wire, and where it goes (exactly once).
using JsonResult = tl::expected<nlohmann::json, ControlError>;
using JsonReply = std::function<void(JsonResult)>;

nlohmann::json to_json(const ModuleStatus& status);
nlohmann::json to_json(PowerState power);  // {"power": ...}
nlohmann::json to_json(const PowerCutOutcome& outcome);
nlohmann::json to_json(const InjectOutcome& outcome);
nlohmann::json to_json(const ModuleStats& stats);
nlohmann::json to_json(const SnapshotDone& done);
nlohmann::json to_json(const BackupReport& report);
nlohmann::json to_json(const FileChecksum& checksum);
nlohmann::json to_json(const AppFotaStaged& staged);
nlohmann::json to_json(const AppSyncDone& done);
nlohmann::json to_json(const FastbootErased& erased);
nlohmann::json to_json(const SimReport& report);
nlohmann::json to_json(const NetworkReport& report);
nlohmann::json to_json(const GnssReport& report);
nlohmann::json to_json(const SmsDelivered& delivered);
nlohmann::json to_json(const std::vector<SmsRecord>& outbox);        // {"messages": [...]}
nlohmann::json to_json(const std::vector<nand::ArmedRule>& rules);   // {"faults": [...]}
nlohmann::json to_json(const std::vector<std::uint32_t>& disarmed);  // {"disarmed": [ids]}

template <class T>
JsonResult as_json(const Controlled<T>& result) {
  if (!result) return tl::unexpected(result.error());
  return to_json(*result);
}

}  // namespace vmodem::sim::control
