// The module's AT command set beyond V.250 basics and the file commands:
// identity, general settings, network, power. Each group registers its
// commands in the module's registry; handlers call back into the Module.
#pragma once

#include <vmodem/at/registry.hpp>

#include "module/nv_settings.hpp"

namespace vmodem::sim {

class Module;

void register_command_set(at::Registry& registry, Module& module);

// Groups (one file each).
void register_identity_commands(at::Registry& registry, Module& module);
void register_general_commands(at::Registry& registry, Module& module);
void register_network_commands(at::Registry& registry, Module& module);
void register_config_commands(at::Registry& registry, Module& module);
void register_power_commands(at::Registry& registry, Module& module);
void register_backup_commands(at::Registry& registry, Module& module);
void register_fota_commands(at::Registry& registry, Module& module);  // AT+QFOTADL

// AT&W stores a port's settings in NV; they become its power-on settings.
AtProfile saved_settings(const at::PortSettings& settings);
// Members of `saved` that are empty leave `settings` as it is.
void apply_saved_settings(at::PortSettings& settings, const AtProfile& saved);

}  // namespace vmodem::sim
