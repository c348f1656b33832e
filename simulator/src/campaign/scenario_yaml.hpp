// A scenario written in YAML: read into the JSON document the scenario
// reader (scenario.cpp) checks, so both spellings have one schema and the
// same error messages.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace vmodem::sim::campaign {

// True for a file named *.yaml or *.yml.
bool is_yaml_file(std::string_view file_name);

// The document in `text` as JSON. Scalars follow YAML 1.2's core schema
// where they are plain (unquoted): true/false, null/~, integers, floats;
// anything quoted, and any other plain scalar, is a string. Mappings with
// keys that are not scalars, anchors' cycles, tags and several documents
// are refused. An error says where (line and column, from 1) and what.
tl::expected<nlohmann::json, std::string> yaml_to_json(std::string_view text);

}  // namespace vmodem::sim::campaign
