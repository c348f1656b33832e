// Host-command scenarios: the action is the user's own program, run against
// the module's real PTY (examples/host-settings: a Python program that
// rewrites settings.ini with AT+QFOPEN/+QFWRITE and no rename). The
// campaign cuts it at its real NAND operations and finds the torn-file
// cuts; a cut replays alone with the same verdict; a program that hangs is
// killed at its timeout and reported as such.
#include <fstream>

#include <gtest/gtest.h>

#include "campaign/runner.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::campaign {
namespace {

const std::filesystem::path kExample =
    std::filesystem::path(VMODEM_EXAMPLES) / "host-settings" / "scenario.json";

std::string transcript_of(const CutRecord& cut) {
  std::string out;
  for (const auto& line : cut.transcript)
    out += line + "\n";
  return out;
}

TEST(HostCommand, TheCampaignFindsTheTornSettingsFile) {
  auto s = load_scenario(kExample);
  ASSERT_TRUE(s) << s.error().describe();
  ASSERT_TRUE(has_host_steps(*s));
  const auto report = run_campaign(*s);
  ASSERT_TRUE(report) << report.error();
  EXPECT_GT(report->operations, 3U) << "the program's writes reach the flash";
  EXPECT_EQ(report->result.cuts, report->operations);
  EXPECT_GT(report->result.failed, 0U) << "no rename: some cut leaves a torn settings.ini";
  EXPECT_GT(report->result.count("old state"), 0U) << "a cut before the file is emptied";
  for (const auto& cut : report->cuts) {
    if (!cut.failed) continue;
    EXPECT_EQ(cut.outcome, "failed: step all or nothing") << cut.point.id();
    EXPECT_NE(cut.detail.find("/settings.ini changed"), std::string::npos) << cut.detail;
    const std::string transcript = transcript_of(cut);
    EXPECT_NE(transcript.find("$ python3 write_settings.py"), std::string::npos) << transcript;
    EXPECT_NE(transcript.find("-- power cut:"), std::string::npos) << transcript;
    EXPECT_NE(transcript.find("urc: APP RDY"), std::string::npos) << transcript;
  }
  // A cut replayed alone: the same operation struck, the same verdict.
  const CutRecord& torn = *std::find_if(report->cuts.begin(), report->cuts.end(),
                                        [](const CutRecord& c) { return c.failed; });
  RunOptions options;
  options.only = torn.point;
  const auto replayed = run_campaign(*s, options);
  ASSERT_TRUE(replayed) << replayed.error();
  ASSERT_EQ(replayed->cuts.size(), 1U);
  EXPECT_EQ(replayed->cuts[0].outcome, torn.outcome);
  EXPECT_EQ(replayed->cuts[0].fault, torn.fault);
}

TEST(HostCommand, AProgramThatHangsIsKilledAtItsTimeout) {
  auto s =
      parse_scenario(R"({"action": [{"run": "exec sleep 30", "timeout_ms": 300}]})", "inline.json");
  ASSERT_TRUE(s) << s.error().describe();
  const auto start = std::chrono::steady_clock::now();
  const auto report = run_campaign(*s);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("run exec sleep 30: killed at its timeout of 300 ms"),
            std::string::npos)
      << report.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(HostCommand, AProgramThatFailsSaysSoWithItsOutput) {
  auto s =
      parse_scenario(R"({"action": [{"run": "echo no port here >&2; exit 3"}]})", "inline.json");
  ASSERT_TRUE(s) << s.error().describe();
  const auto report = run_campaign(*s);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("exit 3"), std::string::npos) << report.error();
  EXPECT_NE(report.error().find("host: no port here"), std::string::npos) << report.error();
}

TEST(HostCommand, AnEmptyRunIsAMalformedScenario) {
  const auto s = parse_scenario(R"({"action": [{"run": ""}]})", "inline.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "action[0].run");
}

// A host program that talks to the module as a host does: `upload NAME
// TEXT` stores a file with AT+QFUPL, `has NAME` exits 0 only when AT+QFLST
// lists it.
const char* const kAtProgram = R"py(import os, select, sys, time, tty
fd = os.open(os.environ["VMODEM_AT_PORT"], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def command(line, data=None):
    os.write(fd, line.encode() + b"\r")
    buf, end = b"", time.monotonic() + 10
    while b"\r\nOK\r\n" not in buf and b"ERROR" not in buf:
        if data is not None and b"CONNECT" in buf:
            os.write(fd, data)
            data = None
        left = end - time.monotonic()
        if left <= 0:
            sys.exit("no answer: %r" % buf)
        if select.select([fd], [], [], left)[0]:
            buf += os.read(fd, 4096)
    return buf
if sys.argv[1] == "upload":
    body = sys.argv[3].encode()
    answer = command('AT+QFUPL="%s",%d' % (sys.argv[2], len(body)), body)
    sys.exit(0 if b"\r\nOK\r\n" in answer else "upload: %r" % answer)
listed = ('+QFLST: "%s"' % sys.argv[2]).encode() in command('AT+QFLST="*"')
sys.exit(0 if listed else 1)
)py";

// Host programs in the setup and in the checks run as the action's do, with
// the module's AT port in their environment: the setup's program uploads a
// file every cut must keep, and a check that is a program decides each
// cut by its exit code.
TEST(HostCommand, SetupAndChecksRunTheUsersProgramsToo) {
  vmodem::testing::TempDir dir;
  std::ofstream(dir / "at.py") << kAtProgram;
  const auto scenario = [&](const std::string& checked) {
    const std::string text = R"({"setup": [{"run": "python3 at.py upload a.txt hello"}],
        "action": [{"send": "AT+QFUPL=\"b.txt\",{size}", "data": "world"}],
        "cuts": {"sample": 4},
        "checks": [{"run": "python3 at.py has )" +
                             checked + R"("}]})";
    return parse_scenario(text, dir / "scenario.json");
  };

  auto keeps = scenario("a.txt");
  ASSERT_TRUE(keeps) << keeps.error().describe();
  const auto kept = run_campaign(*keeps);
  ASSERT_TRUE(kept) << kept.error();
  EXPECT_EQ(kept->result.cuts, 4U);
  EXPECT_EQ(kept->result.failed, 0U) << kept->result.describe();

  auto missing = scenario("never.txt");
  ASSERT_TRUE(missing) << missing.error().describe();
  const auto failed = run_campaign(*missing);
  ASSERT_TRUE(failed) << failed.error();
  EXPECT_EQ(failed->result.failed, 4U) << failed->result.describe();
  EXPECT_EQ(failed->result.count("failed: check 1"), 4U) << failed->result.describe();
}

}  // namespace
}  // namespace vmodem::sim::campaign
