// `vmodem profiles [--json]`: the profiles built into the binary, with the
// module each one is and its family, for choosing --profile.
#include <iostream>

#include <nlohmann/json.hpp>

#include <vmodem/simulator/profile.hpp>

#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

int list_profiles(bool as_json) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : sim::builtin_profile_names()) {
    auto profile = sim::load_profile(name);
    if (!profile) return report_error(kExitFailure, profile.error().describe());
    list.push_back({{"name", profile->name},
                    {"model", profile->identity.model},
                    {"family", sim::to_string(profile->family)},
                    {"revision", profile->identity.revision},
                    {"description", profile->description}});
  }
  if (as_json) {
    print_json({{"profiles", list}});
    return kExitOk;
  }
  for (const auto& p : list) {
    std::cout << p["name"].get<std::string>() << "  " << p["model"].get<std::string>() << "  "
              << p["family"].get<std::string>() << "  " << p["revision"].get<std::string>()
              << "\n    " << p["description"].get<std::string>() << "\n";
  }
  std::cout << "Use one with --profile NAME (the model works too, in any case); "
               "or give a path to a JSON profile of your own.\n";
  return kExitOk;
}

}  // namespace

void add_profiles_command(CLI::App& app, CommandList& commands) {
  auto as_json = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("profiles", "List the built-in module profiles");
  sub->add_flag("--json", *as_json, "Print {profiles: [{name, model, family, revision, ...}]}");
  commands.add(sub, [as_json] { return list_profiles(*as_json); });
}

}  // namespace vmodem::cli
