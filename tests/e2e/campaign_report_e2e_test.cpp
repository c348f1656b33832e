// `vmodem campaign` reports and splits through the real binary on the
// shipped example (examples/cert-backup): the JUnit XML parsed by Python's
// xml.etree as a CI system would read it, the HTML page, shards merged into
// the report of the unsharded run, merge refusing a shard of another seed,
// and Ctrl-C writing a partial report.
#include <fstream>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_support.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vmodem::e2e {
namespace {

using vmodem::testing::run_shell;
using vmodem::testing::TempDir;

const std::string kExample = std::string(VMODEM_EXAMPLES) + "/cert-backup/scenario.json";

std::string q(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// What two reports of one campaign share: no wall clock, no count of the
// power-ups the cuts shared (fewer in a shard), no replay command (it names
// the report's own path).
nlohmann::json comparable(nlohmann::json report) {
  report.erase("seconds");
  report.erase("power_ups");
  for (auto& cut : report["results"])
    cut.erase("replay");
  return report;
}

class CampaignReports : public ::testing::Test {
 protected:
  vmodem::testing::ProcessOutcome run(const std::string& args) {
    return run_shell(vmodem_binary() + " campaign " + args + " 2>&1");
  }
  TempDir dir_;
};

TEST_F(CampaignReports, JunitParsesWithATestCasePerCutAndHtmlIsWritten) {
  const auto json = dir_ / "r.json", junit = dir_ / "r.xml", html = dir_ / "r.html";
  const auto out = run("run " + q(kExample) + " --sample 8 --json " + q(json) + " --junit " +
                       q(junit) + " --html " + q(html));
  ASSERT_EQ(out.exit_code, 0) << out.out;
  const auto report = read_json(json);
  ASSERT_EQ(report["cuts"], 8);
  EXPECT_EQ(report["planned"], 8);
  // What a CI system reads: the root, the suite's counts, one test case per
  // cut with its id, the seed among the properties.
  const std::string check = R"(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
cases = suite.findall("testcase")
props = {p.get("name"): p.get("value") for p in suite.find("properties")}
print(root.get("tests"), suite.get("failures"), len(cases), props["seed"], props["shard"])
print(cases[0].get("name"))
print(cases[0].get("classname"))
print(cases[0].find("system-out").text.splitlines()[0])
)";
  std::ofstream(dir_ / "check.py") << check;
  const auto parsed = run_shell("python3 " + q(dir_ / "check.py") + " " + q(junit) + " 2>&1");
  ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
  const auto& first = report["results"][0];
  EXPECT_EQ(parsed.out,
            "8 0 8 15 1/1\n" + first["id"].get<std::string>() + " (step " +
                std::to_string(first["step"].get<int>()) + ": " +
                report["steps"][first["step"].get<int>() - 1]["step"].get<std::string>() +
                ")\nscenario.torn_partial\n" + first["outcome"].get<std::string>() + "\n");
  const std::string page = read_text(html);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_NE(page.find("Wear per block"), std::string::npos);
}

TEST_F(CampaignReports, ShardsMergeIntoTheUnshardedReportAndMergeRefusesAnotherSeed) {
  const auto whole = dir_ / "whole.json";
  ASSERT_EQ(run("run " + q(kExample) + " --sample 6 --json " + q(whole)).exit_code, 0);
  for (const char* i : {"1", "2"}) {
    const auto path = dir_ / (std::string("shard") + i + ".json");
    const auto out =
        run("run " + q(kExample) + " --sample 6 --shard " + i + "/2 --json " + q(path));
    ASSERT_EQ(out.exit_code, 0) << out.out;
    EXPECT_NE(out.out.find(std::string("shard ") + i + "/2"), std::string::npos) << out.out;
    EXPECT_EQ(read_json(path)["cuts"], 3);
  }
  const auto one = dir_ / "shard1.json", two = dir_ / "shard2.json";
  const auto merged = dir_ / "merged.json";
  const auto out = run("merge " + q(two) + " " + q(one) + " --json " + q(merged) + " --junit " +
                       q(dir_ / "merged.xml") + " --html " + q(dir_ / "merged.html"));
  ASSERT_EQ(out.exit_code, 0) << out.out;
  EXPECT_EQ(comparable(read_json(merged)), comparable(read_json(whole)));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "merged.xml"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "merged.html"));

  // Shard 2 as a run of another seed would have written it.
  auto other_report = read_json(two);
  other_report["seed"] = "16";
  const auto other = dir_ / "other.json";
  std::ofstream(other) << other_report.dump();
  const auto refused = run("merge " + q(one) + " " + q(other));
  EXPECT_EQ(refused.exit_code, 5) << refused.out;
  EXPECT_NE(refused.out.find("cannot merge: " + other.string() +
                             ": not a shard of the same campaign: seed 16, the first report's 15"),
            std::string::npos)
      << refused.out;
  const auto missing = run("merge " + q(one));
  EXPECT_EQ(missing.exit_code, 5) << missing.out;
  EXPECT_NE(missing.out.find("shard 2/2 missing"), std::string::npos) << missing.out;
  const auto bad = run("run " + q(kExample) + " --shard 3/2");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--shard 3/2: expected I/N"), std::string::npos) << bad.out;
}

// Starts `argv` with its stderr on a pipe (returned) and stdout discarded.
pid_t spawn(const std::vector<std::string>& argv, int* stderr_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  *stderr_fd = fds[0];
  return pid;
}

TEST_F(CampaignReports, CtrlCWritesAPartialReportAndExits130) {
  // Every operation in two modes: far more cuts than run before the first
  // progress line (a tenth of the plan).
  std::ifstream in(kExample);
  auto scenario = nlohmann::json::parse(in);
  scenario["cuts"]["modes"] = {"torn_partial", "before"};
  scenario["action"][0]["data_file"] = std::string(VMODEM_EXAMPLES) + "/cert-backup/cert.pem";
  const auto path = dir_ / "scenario.json";
  std::ofstream(path) << scenario.dump(2);
  const auto json = dir_ / "r.json", junit = dir_ / "r.xml";
  int err = -1;
  const pid_t pid = spawn({vmodem_binary(), "campaign", "run", path.string(), "--json",
                           json.string(), "--junit", junit.string()},
                          &err);
  ASSERT_GT(pid, 0);
  std::string said;
  char buffer[512];
  bool interrupted = false;
  for (;;) {
    const ssize_t n = ::read(err, buffer, sizeof buffer);
    if (n <= 0) break;
    said.append(buffer, static_cast<std::size_t>(n));
    // The first progress line: cuts are running.
    if (!interrupted && said.find("vmodem: campaign: ") != std::string::npos) {
      ::kill(pid, SIGINT);
      interrupted = true;
    }
  }
  ::close(err);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(interrupted) << said;
  ASSERT_TRUE(WIFEXITED(status)) << said;
  EXPECT_EQ(WEXITSTATUS(status), 130) << said;
  EXPECT_NE(said.find("interrupted: the reports written are partial"), std::string::npos) << said;
  const auto report = read_json(json);
  ASSERT_TRUE(report.is_object()) << said;
  EXPECT_EQ(report["partial"], true);
  EXPECT_GT(report["cuts"].get<int>(), 0);
  EXPECT_LT(report["cuts"].get<int>(), report["planned"].get<int>());
  EXPECT_EQ(report["results"].size(), report["cuts"].get<std::size_t>());
  EXPECT_NE(read_text(junit).find("<property name=\"partial\" value=\"true\"/>"),
            std::string::npos);
}

}  // namespace
}  // namespace vmodem::e2e
