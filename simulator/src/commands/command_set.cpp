#include "commands/command_set.hpp"

namespace vmodem::sim {

void register_command_set(at::Registry& registry, Module& module) {
  register_identity_commands(registry, module);
  register_general_commands(registry, module);
  register_network_commands(registry, module);
  register_config_commands(registry, module);
  register_power_commands(registry, module);
  register_backup_commands(registry, module);
  register_fota_commands(registry, module);
}

nlohmann::json saved_settings(const at::PortSettings& s) {
  return {{"echo", s.echo},
          {"verbose", s.verbose},
          {"quiet", s.quiet},
          {"cmee", static_cast<int>(s.cmee)}};
}

void apply_saved_settings(at::PortSettings& s, const nlohmann::json& saved) {
  s.echo = saved.value("echo", s.echo);
  s.verbose = saved.value("verbose", s.verbose);
  s.quiet = saved.value("quiet", s.quiet);
  const int cmee = saved.value("cmee", static_cast<int>(s.cmee));
  if (cmee >= 0 && cmee <= 2) s.cmee = static_cast<at::CmeeMode>(cmee);
}

}  // namespace vmodem::sim
