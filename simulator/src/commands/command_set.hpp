// The module's AT command set beyond V.250 basics and the file commands:
// identity, general settings, network, power, backup, FOTA. Each group
// registers its commands in the module's registry and takes only the parts
// of the module (services.hpp) its handlers touch; they must outlive the
// registry.
#pragma once

#include <vmodem/at/registry.hpp>
#include <vmodem/simulator/module_services.hpp>

#include "module/nv_settings.hpp"

namespace vmodem::sim {

void register_command_set(at::Registry& registry, const CommandServices& module);

// Groups (one file each).
void register_identity_commands(at::Registry& registry, const Identity& identity,
                                const FirmwareUpdate& firmware);
void register_general_commands(at::Registry& registry, NvSettings& nv);
void register_network_commands(at::Registry& registry, const NetworkConfig& network, NvSettings& nv,
                               RuntimeState& radio);
void register_config_commands(at::Registry& registry, const NetworkConfig& network, NvSettings& nv,
                              RuntimeState& radio, net::SocketService& sockets);
void register_socket_commands(at::Registry& registry, net::SocketService& sockets,
                              const NetworkConfig& network, NvSettings& nv, RuntimeState& radio);
// +CPAS, +CCLK, +QLTS, +CBC, +CESQ, +IFC, +CGEREP, ATH.
void register_status_commands(at::Registry& registry, const NetworkConfig& network,
                              RuntimeState& radio);
// +QSPN, +CEER, +CIND, +QTEMP, +CPOL.
void register_indicator_commands(at::Registry& registry, const NetworkConfig& network,
                                 RuntimeState& radio);
// AT+QIDNSCFG, AT+QIDNSGIP, AT+QPING.
void register_dns_commands(at::Registry& registry, const net::SocketService& sockets,
                           RuntimeState& radio, UrcSink& urcs, PowerControl& power,
                           boost::asio::io_context& io);
// +CPIN, +CLCK, +CPWD, +QPINC, +CRSM, +CNUM, +QSIMSTAT (commands/sim_card.hpp).
void register_sim_commands(at::Registry& registry, SimCard& sim);
// The module's gate for kNeedsSim / kNeedsSimPin (gate.hpp): the +CME ERROR
// of a card absent, blocked or locked; nullopt for other tags and test forms.
std::optional<at::Failure> sim_gate(const SimCard& sim, const at::Command& command,
                                    std::uint32_t gate_tag);
// +CMGF, +CSDH, +CSMS, +CSCA, +CPMS, +CNMI, +CSMP, +CMGS, +CMGW, +CMSS, +CMGR,
// +CMGL, +CMGD (sms/sms_service.hpp).
void register_sms_commands(at::Registry& registry, sms::SmsService& service, SimCard& sim,
                           RuntimeState& radio, NvSettings& nv);
void register_power_commands(at::Registry& registry, PowerControl& power, RuntimeState& radio);
void register_backup_commands(at::Registry& registry, const BackupConfig& backup,
                              PowerControl& power, FileSystems& file_systems);
void register_fota_commands(at::Registry& registry, const CommandServices& module);  // AT+QFOTADL

class GnssReceiver;
// AT+QGPS, +QGPSEND, +QGPSLOC, +QGPSCFG, +QGPSGNMEA (commands/gnss.hpp).
void register_gnss_commands(at::Registry& registry, GnssReceiver& gnss);

// AT&W stores a port's settings in NV; they become its power-on settings.
AtProfile saved_settings(const at::PortSettings& settings);
// Members of `saved` that are empty leave `settings` as it is.
void apply_saved_settings(at::PortSettings& settings, const AtProfile& saved);

}  // namespace vmodem::sim
