// What the command groups may reach of the module: one narrow interface per
// concern, so a group's registration names exactly what its handlers touch
// (AT+CFUN needs power control and the radio state, not the flash), and a
// test or a new product family can hand a group stand-ins for the rest.
//
// The Module implements these. Every call comes from a handler or a
// completion on the module's io thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <vmodem/fs/backup.hpp>
#include <vmodem/fs/shared.hpp>
#include <vmodem/simulator/module_state.hpp>
#include <vmodem/simulator/profile.hpp>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace vmodem::sim {

class NvSettings;
class SimCard;
namespace net {
class SocketService;
}
namespace sms {
class SmsService;
}

// Power transitions a command asks for, and the power state it reads.
class PowerControl {
 public:
  virtual PowerState power_state() const = 0;
  // AT+CFUN=1,1: an orderly reset, after the command's OK has gone out.
  virtual void request_reset() = 0;
  // AT+QPOWD: POWERED DOWN and off (immediate: no URC, no sync delay).
  virtual void request_power_down(bool immediate) = 0;
  // Called on the io thread after every power-state change, for as long as
  // the module lives.
  virtual void on_power_state(std::function<void(PowerState)> listener) = 0;

 protected:
  ~PowerControl() = default;
};

// Unsolicited result codes, on the port AT+QURCCFG names.
class UrcSink {
 public:
  virtual void send_urc(const std::string& line) = 0;

 protected:
  ~UrcSink() = default;
};

// The module's mounted file systems and their backups.
class FileSystems {
 public:
  // By the name, alias or partition the profile gives it; nullptr unless
  // mounted.
  virtual fs::SharedFileSystem* file_system(std::string_view name) = 0;
  virtual fs::SharedFileSystem* file_system(FsRole role) = 0;
  // nullptr while off or when the profile gives the file system no backup.
  virtual fs::BackupEngine* backup_engine(FsRole role) = 0;

 protected:
  ~FileSystems() = default;
};

// The running firmware and its update (SPEC §7).
class FirmwareUpdate {
 public:
  // ATI Revision, AT+CGMR, AT+QGMR: read from NAND at power-on.
  virtual std::string firmware_version() const = 0;
  // Stores a downloaded package and schedules the reset that applies it: 0,
  // or the +QIND: "FOTA","END",<n> code of a refusal (511 too large, 502
  // the flash failed).
  virtual int stage_firmware_update(std::span<const std::uint8_t> package) = 0;

 protected:
  ~FirmwareUpdate() = default;
};

// Everything the command set is given; each group takes only its part.
struct CommandServices {
  const Profile& profile;
  spdlog::logger& log;
  boost::asio::io_context& io;  // where work finished on other threads is posted
  NvSettings& nv;               // settings that survive power-off
  RuntimeState& radio;          // CFUN, registration modes, active PDP contexts
  PowerControl& power;
  UrcSink& urcs;
  FileSystems& file_systems;
  FirmwareUpdate& firmware;
  net::SocketService& sockets;  // AT+QIOPEN and the rest of the TCP/IP commands
  SimCard& sim;                 // the card in the slot, its PIN lock
  sms::SmsService& sms;         // the message store, AT+CNMI, the outbox
};

}  // namespace vmodem::sim
