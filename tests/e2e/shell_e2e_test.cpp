// The module from a shell: `vmodem at` against the real daemon, and the
// README's update walkthrough run exactly as it is written there.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

// `vmodem ARGS` with stderr folded in.
testing::ProcessOutcome vmodem(const std::string& args) {
  return testing::run_shell(vmodem_binary() + " " + args + " 2>&1");
}

// The first ```sh block after `marker` in README.md.
std::string readme_block(const std::string& marker) {
  std::ifstream in(VMODEM_README);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto at = readme.find(marker);
  if (at == std::string::npos) return {};
  const auto begin = readme.find("```sh\n", at);
  const auto end = readme.find("\n```", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return readme.substr(begin + 6, end - begin - 6 + 1);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

class VmodemAt : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.wait_booted()) << daemon_.log(); }
  std::string state() const { return daemon_.state().string(); }
  Daemon daemon_;
};

TEST_F(VmodemAt, PrintsEachAnswerAndExitsByItsFinalResult) {
  const auto ok = vmodem("at " + state() + " ATE0 AT+CGMR");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("BG95M3LAR02A03\nOK\n"), std::string::npos) << ok.out;

  const auto error = vmodem("at " + state() + " AT+CMEE=2 AT+QFDEL=\\\"nosuch\\\"");
  EXPECT_EQ(error.exit_code, 1) << error.out;
  EXPECT_NE(error.out.find("+CME ERROR: "), std::string::npos) << error.out;

  const auto nothing_there = vmodem("at " + state() + "/ttyUSB9 AT --timeout 0.2");
  EXPECT_EQ(nothing_there.exit_code, 3) << nothing_there.out;
}

TEST_F(VmodemAt, SendsDataAfterConnect) {
  { std::ofstream(daemon_.state() / "hello.txt") << "hello, module"; }
  const auto upload =
      vmodem("at " + state() + " 'AT+QFUPL=\"hello.txt\",13' --data " + state() + "/hello.txt");
  EXPECT_EQ(upload.exit_code, 0) << upload.out;
  EXPECT_NE(upload.out.find("+QFUPL: 13,"), std::string::npos) << upload.out;
  const auto listed = vmodem("at " + state() + " 'AT+QFLST=\"hello.txt\"'");
  EXPECT_NE(listed.out.find("+QFLST: \"hello.txt\",13"), std::string::npos) << listed.out;
}

TEST_F(VmodemAt, TheReadmeUpdateWalkthroughEndsOnTheNewVersion) {
  const std::string block = readme_block("tests/e2e/shell_e2e_test.cpp runs this block");
  ASSERT_FALSE(block.empty()) << "README.md lost the walkthrough's marker or block";
  vmodem::testing::TempDir work;
  const auto script = work.path() / "walkthrough.sh";
  std::ofstream(script) << replace_all(block, "/tmp/m1", state());
  const std::string bin_dir = std::filesystem::path(vmodem_binary()).parent_path().string();
  const auto run = testing::run_shell("cd " + work.path().string() + " && PATH=" + bin_dir +
                                      ":$PATH bash -e -o pipefail " + script.string() + " 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  const auto start = run.out.find("+QIND: \"FOTA\",\"START\"");
  const auto hundred = run.out.find("+QIND: \"FOTA\",\"UPDATING\",100");
  const auto end = run.out.find("+QIND: \"FOTA\",\"END\",0");
  EXPECT_NE(start, std::string::npos) << run.out;
  EXPECT_LT(start, hundred) << run.out;
  EXPECT_LT(hundred, end) << run.out;
  EXPECT_NE(end, std::string::npos) << run.out;

  const auto booted = vmodem("at " + state() + " --until 'APP RDY'");
  EXPECT_EQ(booted.exit_code, 0) << booted.out;
  const auto version = vmodem("at " + state() + " AT+CGMR");
  EXPECT_NE(version.out.find("BG95M3LAR02A04"), std::string::npos) << version.out;
}

}  // namespace
}  // namespace vmodem::e2e
