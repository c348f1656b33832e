// SMS TPDUs (3GPP TS 23.040) and the alphabets they carry (TS 23.038): the
// SMS-SUBMIT a host sends (AT+CMGS / AT+CMGW in PDU mode) and the
// SMS-DELIVER the module hands it (AT+CMGR, AT+CMGL, +CMT), each with the
// service-centre address in front as 27.005 PDU mode writes it.
//
// Every decoder takes hostile bytes and returns an error text instead of
// throwing or reading past the end. Texts are UTF-8 on this side.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace vmodem::sim::sms {

using Bytes = std::vector<std::uint8_t>;

// Type of address (23.040 §9.1.2.5).
inline constexpr std::uint8_t kToaInternational = 0x91;  // 145
inline constexpr std::uint8_t kToaNational = 0x81;       // 129
inline constexpr std::uint8_t kToaAlphanumeric = 0xD0;   // 208

// An address as a host writes it: "+4915..." (international), "0170...",
// or an alphanumeric sender ("Bank").
struct Address {
  std::string number;
  std::uint8_t toa = kToaNational;

  friend bool operator==(const Address&, const Address&) = default;
};
// "+123" -> international; digits, '*', '#', 'a'-'c' -> national (129);
// nullopt for anything else or more than 20 digits.
std::optional<Address> address_from_text(std::string_view text);
// With `toa` given by the host (AT+CMGS="123",145): the number's '+' is
// implied by 145.
std::optional<Address> address_from_text(std::string_view text, std::uint8_t toa);

enum class Alphabet : std::uint8_t { gsm7, eight_bit, ucs2 };
// TP-DCS → the alphabet of the user data (23.038 §4; reserved groups read
// as the default alphabet, compressed text as 8-bit data).
Alphabet alphabet_of(std::uint8_t dcs);

// Concatenated short message (UDH IEI 0x00: 8-bit reference, 0x08: 16-bit).
struct Concat {
  std::uint16_t reference = 0;
  std::uint8_t total = 0, sequence = 0;

  friend bool operator==(const Concat&, const Concat&) = default;
};

// TP-UD with its header.
struct UserData {
  Bytes header;        // the UDH's information elements, without UDHL; empty: none
  std::string text;    // gsm7 / ucs2: the text as UTF-8
  Bytes data;          // eight_bit: the octets
  std::size_t length;  // TP-UDL as sent (septets for gsm7, octets otherwise)
  std::optional<Concat> concat() const;
};

// 23.040 §9.2.3.11: local time and the zone in quarter hours.
struct Timestamp {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int zone_quarters = 0;

  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};
// "26/12/06,21:08:08+04" (27.005 <scts>).
std::string to_text(const Timestamp& t);

struct Submit {
  std::optional<Address> sca;  // empty: the SCA length octet was 00 (use AT+CSCA)
  std::uint8_t first_octet = 0x11;
  std::uint8_t mr = 0;
  Address da;
  std::uint8_t pid = 0;
  std::uint8_t dcs = 0;
  std::optional<std::uint8_t> vp_relative;  // VPF 10; enhanced/absolute VPs are skipped
  UserData ud;
};

struct Deliver {
  std::optional<Address> sca;
  std::uint8_t first_octet = 0x04;  // MMS set: no more messages waiting
  Address oa;
  std::uint8_t pid = 0;
  std::uint8_t dcs = 0;
  Timestamp scts;
  UserData ud;
};

// A whole 27.005 PDU: the SCA field then the TPDU. The TPDU must be an
// SMS-SUBMIT (MTI 01) / SMS-DELIVER (MTI 00) and end where its UDL says.
tl::expected<Submit, std::string> decode_submit(std::span<const std::uint8_t> pdu);
tl::expected<Deliver, std::string> decode_deliver(std::span<const std::uint8_t> pdu);
// A TPDU without the SCA field (ctl sms-deliver --pdu).
tl::expected<Deliver, std::string> decode_deliver_tpdu(std::span<const std::uint8_t> tpdu);
// The octets of the SCA field at the start of `pdu` (1 + its length), or
// nullopt if it does not fit.
std::optional<std::size_t> sca_field_length(std::span<const std::uint8_t> pdu);

// The user data for `text`: GSM 7-bit when every character is in the default
// alphabet or its extension table, else UCS2. `dcs` receives the coding.
UserData text_user_data(std::string_view utf8, std::uint8_t& dcs);

// Encoders write the SCA field first (00 when `sca` is empty).
Bytes encode_submit(const Submit& submit);
Bytes encode_deliver(const Deliver& deliver);

// GSM 7-bit default alphabet (with the extension table after 0x1B).
// nullopt when a character has no code.
std::optional<Bytes> gsm7_from_utf8(std::string_view utf8);
std::string gsm7_to_utf8(std::span<const std::uint8_t> septets);
// `text` with every character the default alphabet lacks replaced by '?'
// (bytes that are not UTF-8 are read as Latin-1 first).
std::string gsm7_sanitized(std::string_view text);
// Bytes a host typed: UTF-8 as it is, anything else read as Latin-1.
std::string host_text_to_utf8(std::string_view bytes);
// Packs septets starting after `fill_bits` zero bits (a UDH's padding).
Bytes pack_septets(std::span<const std::uint8_t> septets, unsigned fill_bits = 0);
std::optional<Bytes> unpack_septets(std::span<const std::uint8_t> octets, std::size_t count,
                                    unsigned fill_bits = 0);
// UTF-16BE (UCS2 with surrogate pairs); nullopt for input that is not UTF-8.
std::optional<Bytes> ucs2_from_utf8(std::string_view utf8);
std::string ucs2_to_utf8(std::span<const std::uint8_t> octets);

}  // namespace vmodem::sim::sms
