#include <algorithm>
#include <cctype>

#include <vmodem/at/registry.hpp>

#include "names.hpp"

namespace vmodem::at {

tl::expected<void, Error> Registry::add(std::string_view name, CommandSpec spec) {
  std::string upper = detail::to_upper(name);
  if (!detail::is_command_name(upper)) {
    return tl::unexpected(
        Error{ErrorCode::kInvalidArgument, "not a V.250 command name: " + std::string(name), 0});
  }
  commands_.insert_or_assign(std::move(upper), std::move(spec));
  return {};
}

const CommandSpec* Registry::find(std::string_view name) const {
  const auto found = commands_.find(name);
  return found == commands_.end() ? nullptr : &found->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  out.reserve(commands_.size());
  for (const auto& entry : commands_)
    out.push_back(entry.first);
  return out;
}

std::optional<Failure> Registry::check_gate(const Command& command, std::uint32_t gate_tag) const {
  if (!gate_) return std::nullopt;
  return gate_(command, gate_tag);
}

void Registry::set_cme_text(int code, std::string text) {
  cme_texts_.insert_or_assign(code, std::move(text));
}

std::optional<std::string_view> Registry::cme_text(int code) const {
  const auto found = cme_texts_.find(code);
  if (found != cme_texts_.end()) return std::string_view(found->second);
  return builtin_cme_text(code);
}

}  // namespace vmodem::at
