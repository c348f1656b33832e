#include "sms/sms_service.hpp"

#include <chrono>

#include "hex.hpp"

namespace vmodem::sim::sms {

namespace {

std::string hex_of(const Bytes& bytes) {
  return to_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

std::string_view alphabet_name(Alphabet a) {
  switch (a) {
    case Alphabet::gsm7:
      return "gsm7";
    case Alphabet::eight_bit:
      return "8bit";
    case Alphabet::ucs2:
      return "ucs2";
  }
  return "gsm7";
}

}  // namespace

std::vector<std::string> SmsService::power_on(fs::SharedFileSystem* modem_fs) {
  settings_ = {};
  return store_.attach(modem_fs);
}

Address SmsService::service_centre() const {
  if (const auto& sca = store_.service_centre()) return *sca;
  if (auto card = address_from_text(parts_.card_sca)) return *card;
  return *address_from_text(kDefaultServiceCentre);
}

std::uint8_t SmsService::send(const Submit& submit) {
  const std::uint8_t mr = next_mr_++;
  Submit sent = submit;
  sent.mr = mr;
  if (!sent.sca) sent.sca = service_centre();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  SmsRecord record{
      .to = submit.da.number,
      .mr = mr,
      .text = alphabet_of(submit.dcs) == Alphabet::eight_bit ? std::string() : submit.ud.text,
      .alphabet = std::string(alphabet_name(alphabet_of(submit.dcs))),
      .pdu = upper(hex_of(encode_submit(sent))),
      .timestamp_us = std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
  parts_.emit("SMS_SENT", {{"to", record.to},
                           {"mr", record.mr},
                           {"text", record.text},
                           {"alphabet", record.alphabet},
                           {"pdu", record.pdu}});
  outbox_.push_back(std::move(record));
  return mr;
}

tl::expected<SmsDelivered, ControlError> SmsService::deliver(Deliver message) {
  if (!message.sca) message.sca = service_centre();
  const Bytes pdu = encode_deliver(message);
  const int mt = settings_.cnmi[1];
  if (mt == 2 || mt == 3) {  // routed to the host, not stored (class 0/1/none)
    const std::string tpdu_length = std::to_string(pdu.size() - pdu[0] - 1);
    if (settings_.cmgf == 0) {
      parts_.urcs.send_urc("+CMT: ," + tpdu_length + "\r\n" + upper(hex_of(pdu)));
    } else {
      // Text mode without +CSDH's extra fields; the character set is the
      // default's (a URC has no port of its own to take +CSCS from).
      parts_.urcs.send_urc("+CMT: \"" + message.oa.number + "\",,\"" + to_text(message.scts) +
                           "\"\r\n" + text_mode_data(message.ud, message.dcs, "GSM"));
    }
    return SmsDelivered{.storage = {}, .index = -1, .direct = true};
  }
  const Memory mem3 = store_.preferred()[2];
  const auto index = store_.add(mem3, Stored{Status::rec_unread, pdu});
  if (!index) {
    return tl::unexpected(ControlError{
        "InvalidParameter", "the module's " + std::string(to_string(mem3)) + " storage is full (" +
                                std::to_string(capacity(mem3)) + " messages): AT+CMGD makes room"});
  }
  if (mt == 1) {
    parts_.urcs.send_urc("+CMTI: \"" + std::string(to_string(mem3)) + "\"," +
                         std::to_string(*index));
  }
  return SmsDelivered{.storage = std::string(to_string(mem3)), .index = *index, .direct = false};
}

std::string text_mode_data(const UserData& ud, std::uint8_t dcs, const std::string& cscs) {
  const Alphabet alphabet = alphabet_of(dcs);
  if (alphabet == Alphabet::eight_bit) return upper(hex_of(ud.data));
  if (alphabet == Alphabet::ucs2 || cscs == "UCS2")
    return upper(hex_of(ucs2_from_utf8(ud.text).value_or(Bytes{})));
  if (cscs == "IRA") {
    std::string out;
    for (const char c : ud.text)
      out.push_back((static_cast<unsigned char>(c) & 0x80) != 0 ? '?' : c);
    return out;
  }
  return ud.text;
}

std::string text_mode_address(const Address& a, const std::string& cscs) {
  if (cscs == "UCS2") return upper(hex_of(ucs2_from_utf8(a.number).value_or(Bytes{})));
  return a.number;
}

}  // namespace vmodem::sim::sms
