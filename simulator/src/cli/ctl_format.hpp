// Readable text for `vmodem ctl` (the default; --json prints raw JSON).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vmodem::cli {

// A command's return value as indented "key: value" lines ("ok" for {}).
std::string format_return(std::string_view command, const nlohmann::json& value);
// query-commands' table as a reference listing.
std::string format_commands(const nlohmann::json& commands);
// One event on one line: "<local time> NAME key=value ...".
std::string format_event(const nlohmann::json& event);

}  // namespace vmodem::cli
