#include <vmodem/at/command.hpp>

namespace vmodem::at {

std::optional<std::int64_t> Argument::as_integer() const noexcept {
  if (const auto* value = std::get_if<std::int64_t>(&value_)) return *value;
  return std::nullopt;
}

std::optional<std::string_view> Argument::as_string() const noexcept {
  if (const auto* value = std::get_if<std::string>(&value_)) return std::string_view(*value);
  return std::nullopt;
}

const Argument& Command::arg(std::size_t index) const noexcept {
  static const Argument kOmitted;
  return index < args.size() ? args[index] : kOmitted;
}

}  // namespace vmodem::at
