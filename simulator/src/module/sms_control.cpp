// Module: the SMS network side of the control socket (ctl sms-deliver,
// ctl sms-outbox). The store and the URCs are sms/sms_service.hpp's.
#include <chrono>
#include <ctime>

#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "commands/sim_card.hpp"
#include "hex.hpp"
#include "sms/sms_service.hpp"

namespace vmodem::sim {

namespace {

ControlError invalid(std::string desc) {
  return ControlError{"InvalidParameter", std::move(desc)};
}

// Now, UTC, as the service centre stamps it.
sms::Timestamp now_stamp() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&t, &utc);
  return sms::Timestamp{.year = utc.tm_year % 100,
                        .month = utc.tm_mon + 1,
                        .day = utc.tm_mday,
                        .hour = utc.tm_hour,
                        .minute = utc.tm_min,
                        .second = utc.tm_sec,
                        .zone_quarters = 0};
}

// A number, or else an alphanumeric sender of up to 11 default-alphabet
// characters.
tl::expected<sms::Address, ControlError> sender(const std::string& from) {
  if (auto number = sms::address_from_text(from)) return *number;
  const auto septets = sms::gsm7_from_utf8(from);
  if (from.empty() || !septets || septets->size() > 11) {
    return tl::unexpected(
        invalid("from: expected a phone number (+4917..., 0170...) or an alphanumeric sender of "
                "at most 11 GSM characters"));
  }
  return sms::Address{.number = from, .toa = sms::kToaAlphanumeric};
}

tl::expected<sms::Deliver, ControlError> incoming(const SmsDeliverRequest& request) {
  if (request.text.has_value() == request.pdu.has_value())
    return tl::unexpected(invalid("give exactly one of 'text' and 'pdu'"));
  std::optional<sms::Address> from;
  if (!request.from.empty()) {
    auto address = sender(request.from);
    if (!address) return tl::unexpected(address.error());
    from = *address;
  }
  if (request.pdu) {
    const auto raw = from_hex(*request.pdu);
    if (!raw || raw->empty()) return tl::unexpected(invalid("pdu: expected hex digits"));
    auto deliver =
        sms::decode_deliver_tpdu({reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size()});
    if (!deliver)
      return tl::unexpected(invalid("pdu: not an SMS-DELIVER TPDU: " + deliver.error()));
    if (from) deliver->oa = *from;
    return *deliver;
  }
  if (!from) return tl::unexpected(invalid("from: required with 'text'"));
  sms::Deliver d;
  d.oa = *from;
  d.scts = now_stamp();
  d.ud = sms::text_user_data(*request.text, d.dcs);
  const std::size_t limit = d.dcs == 0 ? 160 : 140;
  if (d.ud.length > limit)
    return tl::unexpected(invalid("text: longer than one SMS (160 GSM or 70 UCS2 characters)"));
  return d;
}

}  // namespace

Controlled<SmsDelivered> Module::sms_deliver(const SmsDeliverRequest& request) {
  auto message = incoming(request);
  if (!message) return tl::unexpected(message.error());
  if (state_ == PowerState::off || state_ == PowerState::booting)
    return tl::unexpected(ControlError{"DeviceNotActive", "the module is off"});
  if (sim_->state() != SimState::ready || !runtime_.registered()) {
    return tl::unexpected(ControlError{
        "DeviceNotActive", "the module is not registered (SIM not ready, radio off or detached)"});
  }
  auto delivered = sms_->deliver(std::move(*message));
  if (delivered) {
    log_->info("SMS from {}: {}", request.from,
               delivered->direct ? std::string("+CMT")
                                 : delivered->storage + " " + std::to_string(delivered->index));
  }
  return delivered;
}

Controlled<std::vector<SmsRecord>> Module::sms_outbox(bool clear) {
  std::vector<SmsRecord> out = sms_->outbox();
  if (clear) sms_->clear_outbox();
  return out;
}

}  // namespace vmodem::sim
