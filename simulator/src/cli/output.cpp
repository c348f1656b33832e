#include "cli/output.hpp"

#include <cctype>
#include <iostream>

#include "json_text.hpp"

namespace vmodem::cli {

int report_error(int code, const std::string& message) {
  std::cerr << "vmodem: " << message << "\n";
  return code;
}

void print_json(const nlohmann::json& value) {
  std::cout << sim::json_safe(value).dump(2) << "\n";
}

tl::expected<sim::Profile, int> image_profile_or_report(const std::filesystem::path& image,
                                                        const std::string& requested) {
  if (!requested.empty()) return load_profile_or_report(requested);
  auto storage = nand::Storage::open_image(image, {}, true);
  if (!storage) return load_profile_or_report(sim::kDefaultProfile);  // Flash::open says why
  if (const auto stored = (*storage)->attachment(); !stored.empty()) {
    auto profile = sim::load_stored_profile(stored, image.string());
    if (!profile)
      return tl::unexpected(report_error(kExitUsage, "profile " + profile.error().describe()));
    return std::move(*profile);
  }
  const auto label = (*storage)->label();
  return load_profile_or_report(label.empty() ? sim::kDefaultProfile : label);
}

tl::expected<sim::Profile, int> load_profile_or_report(const std::string& name) {
  auto profile = sim::load_profile(name);
  if (!profile)
    return tl::unexpected(report_error(kExitUsage, "profile " + profile.error().describe()));
  return std::move(*profile);
}

tl::expected<std::unique_ptr<sim::Flash>, int> open_image_or_report(
    const std::filesystem::path& image, const std::string& requested_profile, bool read_only) {
  auto profile = image_profile_or_report(image, requested_profile);
  if (!profile) return tl::unexpected(profile.error());
  auto flash =
      sim::Flash::open(*profile, image, sim::Flash::Mode::open_existing, sim::Seeds{0}, read_only);
  if (!flash) {
    int code = kExitCorrupt;
    if (!std::filesystem::exists(image)) {
      code = kExitIo;
    } else if (!read_only && nand::Storage::in_use_by_writer(image)) {
      code = kExitUnavailable;  // a running module holds it: stop it first
    }
    return tl::unexpected(report_error(code, flash.error()));
  }
  return std::move(*flash);
}

int manufacture_exit_code(sim::ManufactureError::Kind kind) {
  switch (kind) {
    case sim::ManufactureError::Kind::no_space:
      return kExitNoSpace;
    case sim::ManufactureError::Kind::boot:
      return kExitFailure;
    case sim::ManufactureError::Kind::image:
      break;
  }
  return kExitIo;
}

std::optional<std::uint64_t> parse_seed(const std::string& text) {
  // std::stoull skips blanks and accepts a sign: "-5" would become 2^64 - 5.
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front())) == 0)
    return std::nullopt;
  try {
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(text, &used, 0);
    if (used != text.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const CLI::Validator kNotNegative(
    [](std::string& text) -> std::string {
      const auto first = text.find_first_not_of(" \t");
      if (first != std::string::npos && text[first] == '-') return "must not be negative: " + text;
      return {};
    },
    "NOT NEGATIVE");

}  // namespace vmodem::cli
