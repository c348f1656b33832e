// The identity of one module of a fleet (`vmodem run --count`).
#pragma once

#include <cstdint>

#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

// Module 0 keeps the profile's identity; module `index` adds `index` to the
// IMEI's serial number (the 6 digits after the 8-digit TAC; the Luhn check
// digit recomputed), to the IMSI's subscriber number (after MCC and MNC) and
// to the ICCID's account number (its Luhn check digit recomputed), so a
// server that keys devices by IMEI, IMSI or ICCID tells the modules apart.
// Numbers wrap within their digits.
Identity fleet_identity(const Identity& base, std::uint64_t index);

// The Luhn check digit of `digits` (each a '0'-'9').
char luhn_check_digit(std::string_view digits);

}  // namespace vmodem::sim
