#include "sms/pdu.hpp"

#include <array>
#include <cstdio>

#include "json_text.hpp"

namespace vmodem::sim::sms {

namespace {

// TS 23.038 §6.2.1: the default alphabet, code → Unicode. 0x1B is the escape
// to the extension table (never a character of its own here).
constexpr std::array<char32_t, 128> kGsm7 = {
    U'@',      U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    U'\u00F2', U'\u00C7', U'\n',     U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',
    U'\u0394', U'_',      U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    U'\u03A3', U'\u0398', U'\u039E', U'\u00A0', U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    U' ',      U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',
    U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',
    U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',
    U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',
    U'\u00A1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',
    U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',
    U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',
    U'X',      U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    U'\u00BF', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',
    U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',
    U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',
    U'x',      U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};

constexpr std::uint8_t kEscape = 0x1B;

struct Extension {
  std::uint8_t code;
  char32_t ch;
};
// §6.2.1.1: the extension table of the default alphabet.
constexpr std::array<Extension, 10> kGsm7Extension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// Valid UTF-8 → code points.
std::optional<std::u32string> decode_utf8(std::string_view text) {
  if (!is_valid_utf8(text)) return std::nullopt;
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t cp = n == 1   ? lead
                  : n == 2 ? (lead & 0x1Fu)
                  : n == 3 ? (lead & 0x0Fu)
                           : (lead & 0x07u);
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    out.push_back(cp);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// LSB-first bit stream, as the default alphabet is packed (23.038 §6.1.2.1.1).
class BitWriter {
 public:
  void put(unsigned value, unsigned bits) {
    for (unsigned b = 0; b < bits; ++b) {
      if (count_ % 8 == 0) out_.push_back(0);
      if ((value >> b) & 1u) out_.back() |= static_cast<std::uint8_t>(1u << (count_ % 8));
      ++count_;
    }
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
  std::size_t count_ = 0;
};

// Reads the TPDU field by field; every read checks the length.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::optional<std::uint8_t> octet() {
    if (pos_ >= bytes_.size()) return std::nullopt;
    return bytes_[pos_++];
  }
  std::optional<std::span<const std::uint8_t>> take(std::size_t n) {
    if (bytes_.size() - pos_ < n) return std::nullopt;
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::size_t left() const { return bytes_.size() - pos_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

constexpr std::string_view kDigits = "0123456789*#abc";

std::string semi_octets(std::span<const std::uint8_t> octets, std::size_t digits) {
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) {
    const unsigned nibble = (octets[i / 2] >> ((i % 2) * 4)) & 0x0Fu;
    out.push_back(nibble < kDigits.size() ? kDigits[nibble] : '?');
  }
  return out;
}

void put_semi_octets(Bytes& out, std::string_view digits) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const auto lo = static_cast<std::uint8_t>(kDigits.find(digits[i]));
    const auto hi = i + 1 < digits.size() ? static_cast<std::uint8_t>(kDigits.find(digits[i + 1]))
                                          : std::uint8_t{0x0F};
    out.push_back(static_cast<std::uint8_t>(lo | (hi << 4)));
  }
}

std::string digits_of(const Address& a) {
  return a.number.starts_with('+') ? a.number.substr(1) : a.number;
}

// TP-OA / TP-DA: length in useful semi-octets, TOA, value.
tl::expected<Address, std::string> read_tp_address(Reader& r, const char* what) {
  const auto length = r.octet();
  const auto toa = r.octet();
  if (!length || !toa) return tl::unexpected(std::string(what) + ": truncated");
  if (*length > 20) return tl::unexpected(std::string(what) + ": longer than 20 digits");
  const auto value = r.take((*length + 1u) / 2u);
  if (!value) return tl::unexpected(std::string(what) + ": truncated");
  Address a{.number = {}, .toa = *toa};
  if ((*toa & 0x70) == 0x50) {  // alphanumeric: packed default alphabet
    const auto septets = unpack_septets(*value, (*length * 4u) / 7u);
    if (!septets) return tl::unexpected(std::string(what) + ": bad alphanumeric address");
    a.number = gsm7_to_utf8(*septets);
    return a;
  }
  a.number = semi_octets(*value, *length);
  if ((*toa & 0x70) == 0x10) a.number.insert(0, "+");
  return a;
}

void put_tp_address(Bytes& out, const Address& a) {
  if ((a.toa & 0x70) == 0x50) {
    const auto septets = gsm7_from_utf8(a.number).value_or(Bytes{});
    const Bytes packed = pack_septets(septets);
    out.push_back(static_cast<std::uint8_t>((septets.size() * 7 + 3) / 4));
    out.push_back(a.toa);
    out.insert(out.end(), packed.begin(), packed.end());
    return;
  }
  const std::string digits = digits_of(a);
  out.push_back(static_cast<std::uint8_t>(digits.size()));
  out.push_back(a.toa);
  put_semi_octets(out, digits);
}

// The SCA field: length in octets (TOA included), 0 for none.
tl::expected<std::optional<Address>, std::string> read_sca(Reader& r) {
  const auto length = r.octet();
  if (!length) return tl::unexpected(std::string("empty PDU"));
  if (*length == 0) return std::optional<Address>();
  if (*length > 11) return tl::unexpected(std::string("SCA: longer than 11 octets"));
  const auto toa = r.octet();
  const auto value = r.take(*length - 1u);
  if (!toa || !value) return tl::unexpected(std::string("SCA: truncated"));
  std::size_t digits = value->size() * 2;
  if (digits > 0 && ((*value)[value->size() - 1] >> 4) == 0x0F) --digits;
  Address a{.number = semi_octets(*value, digits), .toa = *toa};
  if ((*toa & 0x70) == 0x10) a.number.insert(0, "+");
  return std::optional<Address>(a);
}

void put_sca(Bytes& out, const std::optional<Address>& sca) {
  if (!sca) return out.push_back(0);
  const std::string digits = digits_of(*sca);
  out.push_back(static_cast<std::uint8_t>(1 + (digits.size() + 1) / 2));
  out.push_back(sca->toa);
  put_semi_octets(out, digits);
}

std::uint8_t bcd(int value) {
  return static_cast<std::uint8_t>(((value % 10) << 4) | ((value / 10) % 10));
}
int from_bcd(std::uint8_t octet) {
  return (octet & 0x0F) * 10 + (octet >> 4);
}

tl::expected<Timestamp, std::string> read_timestamp(Reader& r) {
  const auto field = r.take(7);
  if (!field) return tl::unexpected(std::string("TP-SCTS: truncated"));
  const auto& f = *field;
  Timestamp t{.year = from_bcd(f[0]),
              .month = from_bcd(f[1]),
              .day = from_bcd(f[2]),
              .hour = from_bcd(f[3]),
              .minute = from_bcd(f[4]),
              .second = from_bcd(f[5]),
              .zone_quarters = (f[6] & 0x07) * 10 + (f[6] >> 4)};
  if ((f[6] & 0x08) != 0) t.zone_quarters = -t.zone_quarters;
  return t;
}

void put_timestamp(Bytes& out, const Timestamp& t) {
  for (const int v : {t.year % 100, t.month, t.day, t.hour, t.minute, t.second})
    out.push_back(bcd(v));
  std::uint8_t zone = bcd(std::abs(t.zone_quarters) % 80);
  if (t.zone_quarters < 0) zone |= 0x08;
  out.push_back(zone);
}

// TP-UDL and TP-UD to the end of the TPDU, which must end there.
tl::expected<UserData, std::string> read_user_data(Reader& r, std::uint8_t dcs, bool udhi) {
  const auto udl = r.octet();
  if (!udl) return tl::unexpected(std::string("TP-UDL missing"));
  const Alphabet alphabet = alphabet_of(dcs);
  const std::size_t octets = alphabet == Alphabet::gsm7 ? (*udl * 7u + 7u) / 8u : *udl;
  if (alphabet == Alphabet::gsm7 ? *udl > 160 : *udl > 140)
    return tl::unexpected(std::string("TP-UDL too large"));
  if (r.left() != octets) {
    return tl::unexpected("TP-UD holds " + std::to_string(r.left()) + " octets, TP-UDL says " +
                          std::to_string(octets));
  }
  const auto body = *r.take(octets);
  UserData ud{.header = {}, .text = {}, .data = {}, .length = *udl};
  std::size_t header_octets = 0;
  if (udhi) {
    if (body.empty() || body[0] + 1u > body.size())
      return tl::unexpected(std::string("UDH longer than the user data"));
    header_octets = body[0] + 1u;
    ud.header.assign(body.begin() + 1, body.begin() + static_cast<std::ptrdiff_t>(header_octets));
  }
  switch (alphabet) {
    case Alphabet::gsm7: {
      const std::size_t header_septets = (header_octets * 8 + 6) / 7;
      if (header_septets > *udl) return tl::unexpected(std::string("UDH longer than TP-UDL"));
      const auto all = unpack_septets(body, *udl);
      if (!all) return tl::unexpected(std::string("TP-UD truncated"));
      ud.text = gsm7_to_utf8(std::span(*all).subspan(header_septets));
      break;
    }
    case Alphabet::eight_bit:
      ud.data.assign(body.begin() + static_cast<std::ptrdiff_t>(header_octets), body.end());
      break;
    case Alphabet::ucs2:
      ud.text = ucs2_to_utf8(body.subspan(header_octets));
      break;
  }
  return ud;
}

void put_user_data(Bytes& out, const UserData& ud, std::uint8_t dcs) {
  const bool has_header = !ud.header.empty();
  const std::size_t header_octets = has_header ? ud.header.size() + 1 : 0;
  if (alphabet_of(dcs) == Alphabet::gsm7) {
    const auto septets = gsm7_from_utf8(ud.text).value_or(Bytes{});
    const std::size_t header_septets = (header_octets * 8 + 6) / 7;
    BitWriter w;
    if (has_header) {
      w.put(static_cast<unsigned>(ud.header.size()), 8);
      for (const auto b : ud.header)
        w.put(b, 8);
      w.put(0, static_cast<unsigned>(header_septets * 7 - header_octets * 8));
    }
    for (const auto s : septets)
      w.put(s, 7);
    out.push_back(static_cast<std::uint8_t>(header_septets + septets.size()));
    const Bytes packed = w.take();
    out.insert(out.end(), packed.begin(), packed.end());
    return;
  }
  Bytes body;
  if (has_header) {
    body.push_back(static_cast<std::uint8_t>(ud.header.size()));
    body.insert(body.end(), ud.header.begin(), ud.header.end());
  }
  if (alphabet_of(dcs) == Alphabet::ucs2) {
    const auto text = ucs2_from_utf8(ud.text).value_or(Bytes{});
    body.insert(body.end(), text.begin(), text.end());
  } else {
    body.insert(body.end(), ud.data.begin(), ud.data.end());
  }
  out.push_back(static_cast<std::uint8_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

std::optional<Address> address_from_text(std::string_view text) {
  if (text.starts_with('+')) return address_from_text(text, kToaInternational);
  return address_from_text(text, kToaNational);
}

std::optional<Address> address_from_text(std::string_view text, std::uint8_t toa) {
  std::string_view digits = text.starts_with('+') ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  for (const char c : digits) {
    if (kDigits.find(c) == std::string_view::npos) return std::nullopt;
  }
  if ((toa & 0x70) == 0x10) return Address{.number = "+" + std::string(digits), .toa = toa};
  if (text.starts_with('+')) return std::nullopt;  // a '+' on a national number
  return Address{.number = std::string(digits), .toa = toa};
}

Alphabet alphabet_of(std::uint8_t dcs) {
  const unsigned group = dcs >> 4;
  if (group <= 0x07) {  // general data coding (00xx) and auto-deletion (01xx)
    if ((dcs & 0x20) != 0) return Alphabet::eight_bit;  // compressed
    switch ((dcs >> 2) & 0x03) {
      case 1:
        return Alphabet::eight_bit;
      case 2:
        return Alphabet::ucs2;
      default:
        return Alphabet::gsm7;
    }
  }
  if (group == 0x0E) return Alphabet::ucs2;
  if (group == 0x0F) return (dcs & 0x04) != 0 ? Alphabet::eight_bit : Alphabet::gsm7;
  return Alphabet::gsm7;  // 1100/1101 message waiting, reserved groups
}

std::optional<Concat> UserData::concat() const {
  for (std::size_t i = 0; i + 1 < header.size();) {
    const std::uint8_t iei = header[i];
    const std::size_t len = header[i + 1];
    if (i + 2 + len > header.size()) return std::nullopt;
    const std::uint8_t* v = header.data() + i + 2;
    if (iei == 0x00 && len == 3) return Concat{v[0], v[1], v[2]};
    if (iei == 0x08 && len == 4)
      return Concat{static_cast<std::uint16_t>((v[0] << 8) | v[1]), v[2], v[3]};
    i += 2 + len;
  }
  return std::nullopt;
}

std::string to_text(const Timestamp& t) {
  std::array<char, 32> buffer{};
  const int q = t.zone_quarters;
  std::snprintf(buffer.data(), buffer.size(), "%02d/%02d/%02d,%02d:%02d:%02d%c%02d", t.year % 100,
                t.month % 100, t.day % 100, t.hour % 100, t.minute % 100, t.second % 100,
                q < 0 ? '-' : '+', std::abs(q) % 100);
  return buffer.data();
}

std::optional<std::size_t> sca_field_length(std::span<const std::uint8_t> pdu) {
  if (pdu.empty() || pdu[0] + 1u > pdu.size()) return std::nullopt;
  return pdu[0] + 1u;
}

tl::expected<Submit, std::string> decode_submit(std::span<const std::uint8_t> pdu) {
  Reader r(pdu);
  auto sca = read_sca(r);
  if (!sca) return tl::unexpected(sca.error());
  Submit s;
  s.sca = *sca;
  const auto first = r.octet();
  const auto mr = first ? r.octet() : std::nullopt;
  if (!first || !mr) return tl::unexpected(std::string("TPDU truncated"));
  if ((*first & 0x03) != 0x01) return tl::unexpected(std::string("not an SMS-SUBMIT (TP-MTI)"));
  s.first_octet = *first;
  s.mr = *mr;
  auto da = read_tp_address(r, "TP-DA");
  if (!da) return tl::unexpected(da.error());
  if (da->number.empty() || da->number == "+") return tl::unexpected(std::string("TP-DA empty"));
  s.da = *da;
  const auto pid = r.octet();
  const auto dcs = pid ? r.octet() : std::nullopt;
  if (!pid || !dcs) return tl::unexpected(std::string("TPDU truncated"));
  s.pid = *pid;
  s.dcs = *dcs;
  switch ((*first >> 3) & 0x03) {
    case 2: {
      const auto vp = r.octet();
      if (!vp) return tl::unexpected(std::string("TP-VP truncated"));
      s.vp_relative = *vp;
      break;
    }
    case 1:
    case 3:
      if (!r.take(7)) return tl::unexpected(std::string("TP-VP truncated"));
      break;
    default:
      break;
  }
  auto ud = read_user_data(r, s.dcs, (*first & 0x40) != 0);
  if (!ud) return tl::unexpected(ud.error());
  s.ud = std::move(*ud);
  return s;
}

namespace {

tl::expected<Deliver, std::string> read_deliver(Reader& r) {
  Deliver d;
  const auto first = r.octet();
  if (!first) return tl::unexpected(std::string("TPDU truncated"));
  if ((*first & 0x03) != 0x00) return tl::unexpected(std::string("not an SMS-DELIVER (TP-MTI)"));
  d.first_octet = *first;
  auto oa = read_tp_address(r, "TP-OA");
  if (!oa) return tl::unexpected(oa.error());
  d.oa = *oa;
  const auto pid = r.octet();
  const auto dcs = pid ? r.octet() : std::nullopt;
  if (!pid || !dcs) return tl::unexpected(std::string("TPDU truncated"));
  d.pid = *pid;
  d.dcs = *dcs;
  auto scts = read_timestamp(r);
  if (!scts) return tl::unexpected(scts.error());
  d.scts = *scts;
  auto ud = read_user_data(r, d.dcs, (*first & 0x40) != 0);
  if (!ud) return tl::unexpected(ud.error());
  d.ud = std::move(*ud);
  return d;
}

}  // namespace

tl::expected<Deliver, std::string> decode_deliver(std::span<const std::uint8_t> pdu) {
  Reader r(pdu);
  auto sca = read_sca(r);
  if (!sca) return tl::unexpected(sca.error());
  auto d = read_deliver(r);
  if (d) d->sca = *sca;
  return d;
}

tl::expected<Deliver, std::string> decode_deliver_tpdu(std::span<const std::uint8_t> tpdu) {
  Reader r(tpdu);
  return read_deliver(r);
}

UserData text_user_data(std::string_view utf8, std::uint8_t& dcs) {
  UserData ud{.header = {}, .text = std::string(utf8), .data = {}, .length = 0};
  if (const auto septets = gsm7_from_utf8(utf8)) {
    dcs = 0x00;
    ud.length = septets->size();
  } else {
    dcs = 0x08;
    ud.length = ucs2_from_utf8(utf8).value_or(Bytes{}).size();
  }
  return ud;
}

Bytes encode_submit(const Submit& s) {
  Bytes out;
  put_sca(out, s.sca);
  std::uint8_t first = static_cast<std::uint8_t>((s.first_octet & ~0x58u) | 0x01u);
  if (s.vp_relative) first |= 0x10;
  if (!s.ud.header.empty()) first |= 0x40;
  out.push_back(first);
  out.push_back(s.mr);
  put_tp_address(out, s.da);
  out.push_back(s.pid);
  out.push_back(s.dcs);
  if (s.vp_relative) out.push_back(*s.vp_relative);
  put_user_data(out, s.ud, s.dcs);
  return out;
}

Bytes encode_deliver(const Deliver& d) {
  Bytes out;
  put_sca(out, d.sca);
  std::uint8_t first = static_cast<std::uint8_t>(d.first_octet & ~0x43u);
  if (!d.ud.header.empty()) first |= 0x40;
  out.push_back(first);
  put_tp_address(out, d.oa);
  out.push_back(d.pid);
  out.push_back(d.dcs);
  put_timestamp(out, d.scts);
  put_user_data(out, d.ud, d.dcs);
  return out;
}

std::optional<Bytes> gsm7_from_utf8(std::string_view utf8) {
  const auto cps = decode_utf8(utf8);
  if (!cps) return std::nullopt;
  Bytes out;
  for (const char32_t cp : *cps) {
    bool found = false;
    for (std::size_t code = 0; code < kGsm7.size(); ++code) {
      if (code != kEscape && kGsm7[code] == cp) {
        out.push_back(static_cast<std::uint8_t>(code));
        found = true;
        break;
      }
    }
    for (const auto& e : kGsm7Extension) {
      if (found) break;
      if (e.ch == cp) {
        out.push_back(kEscape);
        out.push_back(e.code);
        found = true;
      }
    }
    if (!found) return std::nullopt;
  }
  return out;
}

std::string gsm7_to_utf8(std::span<const std::uint8_t> septets) {
  std::string out;
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t s = septets[i] & 0x7F;
    if (s != kEscape) {
      append_utf8(out, kGsm7[s]);
      continue;
    }
    if (i + 1 == septets.size()) break;  // a lone escape at the end: nothing
    const std::uint8_t next = septets[++i] & 0x7F;
    char32_t ch = kGsm7[next];  // §6.2.1.1: an unknown extension shows the base character
    for (const auto& e : kGsm7Extension) {
      if (e.code == next) ch = e.ch;
    }
    append_utf8(out, ch);
  }
  return out;
}

std::string host_text_to_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  for (const char c : bytes)
    append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::string gsm7_sanitized(std::string_view text) {
  const auto cps = decode_utf8(host_text_to_utf8(text));
  std::string out;
  for (const char32_t cp : cps.value_or(std::u32string())) {
    std::string one;
    append_utf8(one, cp);
    out += gsm7_from_utf8(one) ? one : "?";
  }
  return out;
}

Bytes pack_septets(std::span<const std::uint8_t> septets, unsigned fill_bits) {
  BitWriter w;
  w.put(0, fill_bits);
  for (const auto s : septets)
    w.put(s & 0x7Fu, 7);
  return w.take();
}

std::optional<Bytes> unpack_septets(std::span<const std::uint8_t> octets, std::size_t count,
                                    unsigned fill_bits) {
  if (octets.size() * 8 < fill_bits + count * 7) return std::nullopt;
  Bytes out;
  out.reserve(count);
  std::size_t bit = fill_bits;
  for (std::size_t i = 0; i < count; ++i) {
    unsigned value = 0;
    for (unsigned b = 0; b < 7; ++b, ++bit) {
      if ((octets[bit / 8] >> (bit % 8)) & 1u) value |= 1u << b;
    }
    out.push_back(static_cast<std::uint8_t>(value));
  }
  return out;
}

std::optional<Bytes> ucs2_from_utf8(std::string_view utf8) {
  const auto cps = decode_utf8(utf8);
  if (!cps) return std::nullopt;
  Bytes out;
  auto put = [&out](unsigned unit) {
    out.push_back(static_cast<std::uint8_t>(unit >> 8));
    out.push_back(static_cast<std::uint8_t>(unit & 0xFF));
  };
  for (const char32_t cp : *cps) {
    if (cp < 0x10000) {
      put(cp);
    } else {
      const char32_t v = cp - 0x10000;
      put(0xD800 + (v >> 10));
      put(0xDC00 + (v & 0x3FF));
    }
  }
  return out;
}

std::string ucs2_to_utf8(std::span<const std::uint8_t> octets) {
  std::string out;
  for (std::size_t i = 0; i + 1 < octets.size(); i += 2) {
    char32_t unit = static_cast<char32_t>((octets[i] << 8) | octets[i + 1]);
    if (unit >= 0xD800 && unit < 0xDC00 && i + 3 < octets.size()) {
      const char32_t low = static_cast<char32_t>((octets[i + 2] << 8) | octets[i + 3]);
      if (low >= 0xDC00 && low < 0xE000) {
        append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (unit >= 0xD800 && unit < 0xE000) unit = 0xFFFD;  // a lone surrogate
    append_utf8(out, unit);
  }
  return out;
}

}  // namespace vmodem::sim::sms
