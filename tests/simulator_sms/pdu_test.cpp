// The PDU codec against PDUs published with the specification's examples
// and in public PDU-mode tutorials, round trips, and hostile bytes.
#include "sms/pdu.hpp"

#include <random>

#include <gtest/gtest.h>

#include "hex.hpp"

namespace vmodem::sim::sms {
namespace {

Bytes bytes_of(std::string_view hex) {
  const auto raw = from_hex(hex);
  EXPECT_TRUE(raw.has_value()) << hex;
  return raw ? Bytes(raw->begin(), raw->end()) : Bytes{};
}

std::string hex_of(const Bytes& bytes) {
  std::string hex = to_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  for (char& c : hex)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

// "hellohello" to +46708251358, relative validity AA, no SCA (the classic
// PDU-mode example).
constexpr std::string_view kSubmit = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";
// "hellohello" from 27838890001 through +27381000015, stamped 99/03/29
// 15:16:59 +2h.
constexpr std::string_view kDeliver =
    "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";

TEST(SmsPdu, DecodesTheClassicSubmit) {
  const auto s = decode_submit(bytes_of(kSubmit));
  ASSERT_TRUE(s) << s.error();
  EXPECT_FALSE(s->sca.has_value());
  EXPECT_EQ(s->mr, 0);
  EXPECT_EQ(s->da.number, "+46708251358");
  EXPECT_EQ(s->da.toa, kToaInternational);
  EXPECT_EQ(s->dcs, 0);
  EXPECT_EQ(s->vp_relative, 0xAA);
  EXPECT_EQ(s->ud.text, "hellohello");
  EXPECT_EQ(s->ud.length, 10u);
  EXPECT_EQ(hex_of(encode_submit(*s)), kSubmit) << "re-encoded byte for byte";
}

TEST(SmsPdu, DecodesTheClassicDeliver) {
  const auto d = decode_deliver(bytes_of(kDeliver));
  ASSERT_TRUE(d) << d.error();
  ASSERT_TRUE(d->sca.has_value());
  EXPECT_EQ(d->sca->number, "+27381000015");
  EXPECT_EQ(d->oa.number, "27838890001");
  EXPECT_EQ(d->oa.toa, 0xC8);
  EXPECT_EQ(d->scts, (Timestamp{99, 3, 29, 15, 16, 59, 8}));
  EXPECT_EQ(to_text(d->scts), "99/03/29,15:16:59+08");
  EXPECT_EQ(d->ud.text, "hellohello");
  EXPECT_EQ(hex_of(encode_deliver(*d)), kDeliver);
}

TEST(SmsPdu, PacksTheDefaultAlphabetWithItsExtensionTable) {
  const auto septets = gsm7_from_utf8("hellohello");
  ASSERT_TRUE(septets);
  EXPECT_EQ(hex_of(pack_septets(*septets)), "E8329BFD4697D9EC37");
  const auto euro = gsm7_from_utf8("5€ [x]");
  ASSERT_TRUE(euro);
  EXPECT_EQ(*euro, (Bytes{0x35, 0x1B, 0x65, 0x20, 0x1B, 0x3C, 0x78, 0x1B, 0x3E}));
  EXPECT_EQ(gsm7_to_utf8(*euro), "5€ [x]");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x00, 0x02, 0x11, 0x7F}), "@$_à");
  EXPECT_FALSE(gsm7_from_utf8("日本").has_value()) << "not in the default alphabet";
  EXPECT_EQ(gsm7_sanitized("a`b日"), "a?b?");
}

TEST(SmsPdu, ChoosesUcs2ForTextTheDefaultAlphabetLacks) {
  std::uint8_t dcs = 0xFF;
  const UserData gsm = text_user_data("Grüße", dcs);
  EXPECT_EQ(dcs, 0x00) << "ü and ß are in the default alphabet";
  EXPECT_EQ(gsm.length, 5u);
  const UserData ucs = text_user_data("Привет 😀", dcs);
  EXPECT_EQ(dcs, 0x08);
  EXPECT_EQ(ucs.length, 18u) << "7 UTF-16 units and a surrogate pair";
  EXPECT_EQ(ucs2_to_utf8(*ucs2_from_utf8("Привет 😀")), "Привет 😀");
}

TEST(SmsPdu, KeepsAConcatenationHeaderAndItsFillBits) {
  Deliver d;
  d.oa = *address_from_text("+4917012345");
  d.scts = Timestamp{26, 12, 6, 21, 8, 8, -4};
  d.ud.header = {0x00, 0x03, 0x2A, 0x02, 0x01};
  d.ud.text = "abc";
  const Bytes pdu = encode_deliver(d);
  const auto back = decode_deliver(pdu);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->ud.text, "abc");
  EXPECT_EQ(back->ud.length, 10u) << "7 septets of header (one fill bit) and 3 of text";
  EXPECT_EQ(back->ud.concat(), (Concat{0x2A, 2, 1}));
  EXPECT_EQ(back->scts.zone_quarters, -4);
  EXPECT_NE(back->first_octet & 0x40, 0) << "UDHI";

  d.dcs = 0x08;  // UCS2, 16-bit reference
  d.ud.header = {0x08, 0x04, 0x12, 0x34, 0x03, 0x03};
  d.ud.text = "Ω";
  const auto ucs = decode_deliver(encode_deliver(d));
  ASSERT_TRUE(ucs) << ucs.error();
  EXPECT_EQ(ucs->ud.text, "Ω");
  EXPECT_EQ(ucs->ud.concat(), (Concat{0x1234, 3, 3}));
}

TEST(SmsPdu, ReadsAnAlphanumericSender) {
  Deliver d;
  d.oa = Address{.number = "Bank", .toa = kToaAlphanumeric};
  const auto back = decode_deliver(encode_deliver(d));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->oa, d.oa);
}

TEST(SmsPdu, AddressesAreDigitsOnly) {
  EXPECT_EQ(address_from_text("+123")->toa, kToaInternational);
  EXPECT_EQ(address_from_text("0170*#")->toa, kToaNational);
  EXPECT_FALSE(address_from_text("+").has_value());
  EXPECT_FALSE(address_from_text("12a3x").has_value());
  EXPECT_FALSE(address_from_text("+1234567890123456789012").has_value());
  EXPECT_FALSE(address_from_text("+123", kToaNational).has_value());
  EXPECT_EQ(address_from_text("123", kToaInternational)->number, "+123");
}

TEST(SmsPdu, RefusesMalformedPdusWithAReason) {
  EXPECT_FALSE(decode_submit({}));
  EXPECT_FALSE(decode_submit(bytes_of("00")));
  EXPECT_FALSE(decode_submit(bytes_of(kDeliver))) << "a DELIVER is not a SUBMIT";
  Bytes longer = bytes_of(kSubmit);
  longer.push_back(0);
  EXPECT_NE(decode_submit(longer).error().find("TP-UDL"), std::string::npos);
  Bytes udl = bytes_of(kSubmit);
  udl[udl.size() - 10] = 0xFF;  // TP-UDL 255
  EXPECT_FALSE(decode_submit(udl));
  EXPECT_FALSE(decode_deliver_tpdu(bytes_of("04")));
}

// Every prefix and a few thousand random mutations of the known PDUs: an
// answer or an error, never a crash (ASan/UBSan watch the reads).
TEST(SmsPdu, SurvivesHostileBytes) {
  std::mt19937 random(20261206);  // fixed seed: a failure replays
  for (const auto known : {kSubmit, kDeliver}) {
    const Bytes pdu = bytes_of(known);
    for (std::size_t n = 0; n <= pdu.size(); ++n) {
      const Bytes prefix(pdu.begin(), pdu.begin() + static_cast<std::ptrdiff_t>(n));
      (void)decode_submit(prefix);
      (void)decode_deliver(prefix);
      (void)decode_deliver_tpdu(prefix);
    }
    for (int round = 0; round < 3000; ++round) {
      Bytes mutated = pdu;
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f)
        mutated[random() % mutated.size()] = static_cast<std::uint8_t>(random());
      if (auto s = decode_submit(mutated)) (void)encode_submit(*s);
      if (auto d = decode_deliver(mutated)) (void)encode_deliver(*d);
      (void)decode_deliver_tpdu(mutated);
    }
  }
  (void)ucs2_to_utf8(Bytes{0xD8, 0x00});  // a lone surrogate
  EXPECT_EQ(ucs2_to_utf8(Bytes{0xDC, 0x00, 0x00, 0x41}),
            "\xEF\xBF\xBD"
            "A");
}

}  // namespace
}  // namespace vmodem::sim::sms
