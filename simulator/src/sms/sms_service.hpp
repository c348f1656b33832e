// The module's SMS service between the AT commands (commands/
// sms_commands.cpp) and the simulated network (the control socket): the
// message store, the settings a host gives until the next boot (+CMGF,
// +CSDH, +CNMI, +CSMP), the messages sent, and the arrival of new ones
// (+CMTI / +CMT as AT+CNMI asks).
//
// Every call comes from the module's io thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/simulator/control_target.hpp>
#include <vmodem/simulator/module_services.hpp>

#include "sms/pdu.hpp"
#include "sms/store.hpp"

namespace vmodem::sim::sms {

// What the host sets per boot (27.005 defaults as a BG95 starts).
struct Settings {
  int cmgf = 0;                            // 0 PDU, 1 text
  int csdh = 0;                            // text mode: show the header values
  std::array<int, 5> cnmi{2, 1, 0, 0, 0};  // mode, mt, bm, ds, bfr
  std::array<int, 4> csmp{17, 167, 0, 0};  // fo, vp, pid, dcs (text mode SUBMITs)
};

// The service centre when neither AT+CSCA nor the PDU names one.
inline constexpr std::string_view kDefaultServiceCentre = "+4915550000000";

class SmsService {
 public:
  struct Parts {
    UrcSink& urcs;
    // Control events (SMS_SENT): event name and its data.
    std::function<void(const std::string&, nlohmann::json)> emit;
    // The card's service centre (Profile::sim.smsc); "" kDefaultServiceCentre.
    std::string card_sca;
  };
  explicit SmsService(Parts parts) : parts_(std::move(parts)) {}

  // At each boot once the modem file system is mounted (nullptr: none);
  // returns the store's problems. Settings go back to their defaults.
  std::vector<std::string> power_on(fs::SharedFileSystem* modem_fs);
  void power_off() { store_.detach(); }

  MessageStore& store() { return store_; }
  Settings& settings() { return settings_; }
  // AT+CSCA's address, else the card's, else the default.
  Address service_centre() const;

  // The host sent `submit` (its PDU as the host gave it, SCA field first):
  // gives it its TP-MR, records it in the outbox, emits SMS_SENT.
  std::uint8_t send(const Submit& submit);

  // A message from the network: stored in <mem3> and announced with
  // +CMTI, or handed over with +CMT (AT+CNMI mt=2, not stored). Errors
  // are for the control socket: "full" when <mem3> has no room.
  tl::expected<SmsDelivered, ControlError> deliver(Deliver message);

  const std::vector<SmsRecord>& outbox() const { return outbox_; }
  void clear_outbox() { outbox_.clear(); }

 private:
  Parts parts_;
  MessageStore store_;
  Settings settings_;
  std::vector<SmsRecord> outbox_;
  std::uint8_t next_mr_ = 0;
};

// The text-mode header fields and data (27.005 §3.1, §4.1) for a stored or
// delivered message, as the port's character set shows them.
std::string text_mode_data(const UserData& ud, std::uint8_t dcs, const std::string& cscs);
// The +CMT / +CMGR / +CMGL data line's address in the port's character set.
std::string text_mode_address(const Address& a, const std::string& cscs);

}  // namespace vmodem::sim::sms
