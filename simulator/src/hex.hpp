// Bytes as lower-case hex and back: NV strings that are not UTF-8
// ({"hex":"ff00"}) and AT+QISENDEX's payload.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vmodem::sim {

std::string to_hex(std::string_view bytes);
// nullopt for an odd length or a character that is not a hex digit (either case).
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace vmodem::sim
