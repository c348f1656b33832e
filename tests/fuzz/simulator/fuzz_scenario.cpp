// Campaign scenarios are user-written JSON or YAML: any bytes, in either
// spelling, must give a Scenario or a ScenarioError naming a field — never
// a crash, a hang, or text that cannot be written into a JSON report (the
// report and the CLI's --json output carry the error and every step's label).
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "campaign/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses the spelling; the rest is the file.
  const bool yaml = (data[0] & 1) != 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto scenario = vmodem::sim::campaign::parse_scenario(text, yaml ? "fuzz.yaml" : "fuzz.json");
  nlohmann::json out;
  if (scenario) {
    for (const auto* steps : {&scenario->setup, &scenario->action, &scenario->checks}) {
      for (const auto& step : *steps)
        out["steps"].push_back(step.label());
    }
    out["profile"] = scenario->profile;
  } else {
    out["error"] = scenario.error().describe();
    out["field"] = scenario.error().field;
  }
  (void)out.dump();  // throws (a crash here) on text that is not UTF-8
  return 0;
}
