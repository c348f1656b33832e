// `vmodem campaign run -j 2`: two workers, each a module of its own on a
// thread of its own, give the report one worker gives. Labelled quick_e2e,
// so CI also runs it against a vmodem built with ThreadSanitizer (dev.sh
// test tsan): a race between the workers fails it there.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vmodem::e2e {
namespace {

using vmodem::testing::run_shell;
using vmodem::testing::TempDir;

TEST(CampaignWorkers, TwoWorkersGiveTheReportOneWorkerGives) {
  TempDir dir;
  const std::string example = std::string(VMODEM_EXAMPLES) + "/cert-backup/scenario.json";
  nlohmann::json reports[2];
  for (const int jobs : {1, 2}) {
    const auto path = dir / ("j" + std::to_string(jobs) + ".json");
    const auto out = run_shell(vmodem_binary() + " campaign run '" + example + "' --sample 10 -j " +
                               std::to_string(jobs) + " --json '" + path.string() + "' 2>&1");
    ASSERT_EQ(out.exit_code, 0) << out.out;
    EXPECT_NE(out.out.find(std::to_string(jobs) + (jobs == 1 ? " worker" : " workers")),
              std::string::npos)
        << out.out;
    std::ifstream in(path);
    reports[jobs - 1] = nlohmann::json::parse(in);
    reports[jobs - 1].erase("seconds");
    reports[jobs - 1].erase("power_ups");  // a worker shares its own power-ups only
    for (auto& cut : reports[jobs - 1]["results"])
      cut.erase("replay");  // names the report's own path
  }
  EXPECT_EQ(reports[1]["cuts"], 10);
  EXPECT_EQ(reports[1], reports[0]);
}

}  // namespace
}  // namespace vmodem::e2e
