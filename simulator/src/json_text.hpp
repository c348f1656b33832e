// Bytes a host or a file handed us, made safe to put in a JSON string.
//
// nlohmann::json throws when it serialises a string that is not valid UTF-8,
// and file names, APNs, versions and URC text are whatever bytes a host sent.
// Human- and machine-facing JSON (control events, `--json` output) therefore
// carries such bytes through json_text(): valid UTF-8 passes unchanged, and
// each byte that is not part of a valid UTF-8 sequence is written as the four
// ASCII characters `\xHH` (Python's "backslashreplace"). Lossless storage
// (NV settings) uses its own encoding; this one is for reading.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vmodem::sim {

// True when `bytes` is well-formed UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// `bytes` as valid UTF-8: unchanged when it already is, else every byte that
// does not belong to a well-formed sequence becomes `\xHH` (upper-case hex).
std::string json_text(std::string_view bytes);

// `value` with every string in it (object keys too) passed through
// json_text(), so dump() cannot throw. The output boundaries (`--json`
// output, control-socket lines) call it once; code that builds JSON from
// data needs nothing special.
nlohmann::json json_safe(nlohmann::json value);

}  // namespace vmodem::sim
