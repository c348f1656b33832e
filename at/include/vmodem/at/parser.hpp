#pragma once

// V.250 command line syntax: everything after the `AT` prefix.

#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/at/command.hpp>
#include <vmodem/at/error.hpp>

namespace vmodem::at {

// Parses the body of one command line (the text between `AT` and the S3
// terminator) into the commands it holds, in order:
//   basic commands, possibly concatenated  `E0V1&C1`, `I`, `S3=13`, `S3?`
//   extended commands separated by `;`     `+COPS=3,0;+COPS?`
//   a dial command running to `;` or end   `D*99#`
// Command names are case-insensitive (returned upper case); spaces between
// elements are ignored; strings are quoted with `"` and may carry `\HH` hex
// escapes (`\22` is a quote, `\5C` a backslash).
//
// Returns ErrorCode::kSyntax (message says what and where) for: a control
// character or NUL anywhere, a non-ASCII byte outside a string, an unknown
// element, an unterminated string, a bad escape, an integer that does not fit
// in int64. An empty body is valid and gives no commands (`AT` → OK).
// Never throws on any input (fuzzed).
tl::expected<std::vector<Command>, Error> parse_command_line(std::string_view body);

}  // namespace vmodem::at
