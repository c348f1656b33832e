// From validated arguments to ControlTarget calls. The schema has already
// checked names, types and allowed values; these functions add the rules that
// tie arguments together (which selectors exclude each other, what each
// inject kind needs) and build the module's request structs.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/simulator/control_target.hpp>

#include "control/replies.hpp"

namespace vmodem::sim::control {

tl::expected<PowerCutRequest, ControlError> power_cut_request(const nlohmann::json& arguments);
tl::expected<InjectRequest, ControlError> inject_request(const nlohmann::json& arguments);

// True for the commands the module answers (status, power-*, inject, ...);
// false for those the connection itself answers (subscribe, quit, ...).
bool is_target_command(std::string_view command);

// Runs a target command with arguments already checked by validate_arguments.
// Must run on the module's executor. `done` gets the result, exactly once:
// at once for most commands, later (on the executor) for those that do file
// I/O (snapshot-save, snapshot-load). The typed answer is written as JSON
// (replies.hpp).
void call_target(ControlTarget& target, std::string_view command, const nlohmann::json& arguments,
                 JsonReply done);

}  // namespace vmodem::sim::control
