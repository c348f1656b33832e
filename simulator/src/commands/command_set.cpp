#include "commands/command_set.hpp"

namespace vmodem::sim {

void register_command_set(at::Registry& registry, const CommandServices& m) {
  register_identity_commands(registry, m.profile.identity, m.firmware);
  register_general_commands(registry, m.nv);
  register_network_commands(registry, m.profile.network, m.nv, m.radio);
  register_config_commands(registry, m.profile.network, m.nv, m.radio, m.sockets);
  register_socket_commands(registry, m.sockets, m.profile.network, m.nv, m.radio);
  register_status_commands(registry, m.profile.network, m.radio);
  register_sim_commands(registry, m.sim);
  register_indicator_commands(registry, m.profile.network, m.radio);
  register_dns_commands(registry, m.sockets, m.radio, m.urcs, m.power, m.io);
  register_sms_commands(registry, m.sms, m.sim, m.radio, m.nv);
  register_power_commands(registry, m.power, m.radio);
  register_backup_commands(registry, m.profile.backup, m.power, m.file_systems);
  register_fota_commands(registry, m);
}

AtProfile saved_settings(const at::PortSettings& s) {
  return {.echo = s.echo, .verbose = s.verbose, .quiet = s.quiet, .cmee = static_cast<int>(s.cmee)};
}

void apply_saved_settings(at::PortSettings& s, const AtProfile& saved) {
  s.echo = saved.echo.value_or(s.echo);
  s.verbose = saved.verbose.value_or(s.verbose);
  s.quiet = saved.quiet.value_or(s.quiet);
  // NvSettings keeps cmee in 0-2.
  if (saved.cmee) s.cmee = static_cast<at::CmeeMode>(*saved.cmee);
}

}  // namespace vmodem::sim
