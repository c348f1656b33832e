#include "profile/identity.hpp"

#include <algorithm>

namespace vmodem::sim {

namespace {

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Adds `add` to the decimal number text[first, last), wrapping within it.
void add_within(std::string& text, std::size_t first, std::size_t last, std::uint64_t add) {
  for (std::size_t i = last; i > first && add > 0; --i) {
    const std::uint64_t sum = static_cast<std::uint64_t>(text[i - 1] - '0') + add % 10;
    text[i - 1] = static_cast<char>('0' + sum % 10);
    add = add / 10 + sum / 10;
  }
}

// `number`'s digits [first, last) plus `index`, and its last digit the Luhn
// check of the rest; unchanged for index 0 or a number that is not digits.
std::string offset(std::string number, std::size_t first, std::size_t last, std::uint64_t index,
                   bool check_digit) {
  if (index == 0 || !all_digits(number) || number.size() < last) return number;
  add_within(number, first, last, index);
  if (check_digit)
    number.back() = luhn_check_digit(std::string_view(number).substr(0, number.size() - 1));
  return number;
}

}  // namespace

char luhn_check_digit(std::string_view digits) {
  unsigned sum = 0;
  bool twice = true;  // the digit next to the check digit is doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    unsigned d = static_cast<unsigned>(*it - '0');
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

Identity fleet_identity(const Identity& base, std::uint64_t index) {
  Identity id = base;
  id.imei = offset(id.imei, 8, 14, index, /*check_digit=*/true);
  id.imsi = offset(id.imsi, 5, id.imsi.size(), index, /*check_digit=*/false);
  if (id.iccid.size() > 9)
    id.iccid = offset(id.iccid, id.iccid.size() - 9, id.iccid.size() - 1, index, true);
  return id;
}

}  // namespace vmodem::sim
