// Helpers shared by subcommands: errors on stderr with meaningful exit codes,
// JSON or readable text on stdout, profile and image resolution.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/stats.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/manufacture.hpp>
#include <vmodem/simulator/profile.hpp>

#include "cli/commands.hpp"

namespace vmodem::cli {

// Prints "vmodem: <message>" to stderr and returns `code`.
int report_error(int code, const std::string& message);

// `value` on stdout, strings that are not UTF-8 written as `\xHH`
// (json_text.hpp): data read from an image or a package never aborts it.
void print_json(const nlohmann::json& value);

// The profile for a tool that works on an existing image: the one named on
// the command line (an override, which sim::Flash::open checks against the
// image's), else the one the image keeps, else (images made before images
// kept their profile) the one its label names, else the default. On failure
// prints the reason and returns the exit code (2: a profile that does not
// load).
tl::expected<sim::Profile, int> image_profile_or_report(const std::filesystem::path& image,
                                                        const std::string& requested);

// Loads a profile; on failure prints the reason and returns the exit code.
tl::expected<sim::Profile, int> load_profile_or_report(const std::string& name);

// Opens an existing module image for an offline tool.
tl::expected<std::unique_ptr<sim::Flash>, int> open_image_or_report(
    const std::filesystem::path& image, const std::string& requested_profile, bool read_only);

// The exit code of a failed manufacture: 7 no space, 1 the first boot
// failed, 3 the image could not be created.
int manufacture_exit_code(sim::ManufactureError::Kind kind);

// Parses a seed or another non-negative integer given on the command line
// (decimal or 0x hex); nullopt for anything else, a sign included.
std::optional<std::uint64_t> parse_seed(const std::string& text);

// For every numeric option: CLI11 reads "-5" into an unsigned option as
// 2^64 - 5 and accepts it, so the sign is refused before conversion.
extern const CLI::Validator kNotNegative;

}  // namespace vmodem::cli
