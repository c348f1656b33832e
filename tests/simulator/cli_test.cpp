// The real vmodem binary, as a user or a CI script runs it.
#include <array>
#include <cstdio>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "process.hpp"
#include "temp_dir.hpp"

namespace {

using Outcome = vmodem::testing::ProcessOutcome;  // stdout and stderr together

Outcome vmodem(const std::string& args) {
  return vmodem::testing::run_shell(std::string(VMODEM_BINARY) + " " + args + " 2>&1");
}

TEST(Cli, HelpOnEveryCommand) {
  for (const char* cmd : {"", "run", "image", "image create", "image info", "image stats",
                          "image dump-page", "image mark-bad", "image inject"}) {
    auto r = vmodem(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd;
  }
  EXPECT_EQ(vmodem("").exit_code, 2) << "no subcommand is a usage error";
  EXPECT_EQ(vmodem("frobnicate").exit_code, 2);
}

TEST(Cli, CreateInfoInjectDumpStats) {
  vmodem::testing::TempDir dir;
  const std::string img = (dir / "m.img").string();
  auto created = vmodem("image create " + img + " --profile bg77 --seed 3 --json");
  ASSERT_EQ(created.exit_code, 0) << created.out;
  const auto made = nlohmann::json::parse(created.out);
  EXPECT_EQ(made["seed"], 3);
  EXPECT_EQ(made["factory_bad_blocks"].size(), 6U);
  EXPECT_EQ(vmodem("image create " + img).exit_code, 3) << "never overwrites";

  auto info = nlohmann::json::parse(vmodem("image info " + img + " --json").out);
  EXPECT_EQ(info["profile"], "bg77") << "the profile is recorded in the image";
  EXPECT_EQ(info["nand"]["block_count"], 1024);

  ASSERT_EQ(
      vmodem("image inject " + img + " 0 2 --partition usrfs --bit-flips 3 --sector 1").exit_code,
      0);
  auto page =
      nlohmann::json::parse(vmodem("image dump-page " + img + " 0 2 --partition usrfs --json").out);
  EXPECT_EQ(page["ecc"], "corrected");
  EXPECT_EQ(page["corrected_bits"], 3);
  ASSERT_EQ(vmodem("image inject " + img + " 0 3 --partition usrfs --uncorrectable").exit_code, 0);
  page =
      nlohmann::json::parse(vmodem("image dump-page " + img + " 0 3 --partition usrfs --json").out);
  EXPECT_EQ(page["ecc"], "uncorrectable");

  ASSERT_EQ(vmodem("image mark-bad " + img + " 5 --partition fota").exit_code, 0);
  auto stats = nlohmann::json::parse(vmodem("image stats " + img + " --json").out);
  EXPECT_EQ(stats["bad_blocks"]["grown"], 1);
  EXPECT_EQ(stats["damaged_pages"], 2);
}

TEST(Cli, ErrorsHaveMeaningfulExitCodes) {
  vmodem::testing::TempDir dir;
  const std::string img = (dir / "m.img").string();
  ASSERT_EQ(vmodem("image create " + img + " --seed 1").exit_code, 0);
  auto r = vmodem("image inject " + img + " 0 0 --partition nope --unstable");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.out.find("no partition 'nope'"), std::string::npos);
  EXPECT_EQ(vmodem("image inject " + img + " 0 0").exit_code, 2) << "no damage named";
  EXPECT_EQ(vmodem("image info " + img + " --profile bg77").exit_code, 4) << "geometry mismatch";
  EXPECT_EQ(vmodem("image create " + (dir / "x.img").string() + " --profile nonesuch").exit_code,
            2);
  {
    FILE* f = std::fopen((dir / "junk.img").c_str(), "w");
    std::fputs("not an image at all", f);
    std::fclose(f);
  }
  r = vmodem("image info " + (dir / "junk.img").string());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.out.find("not a vmodem NAND image"), std::string::npos) << r.out;
}

TEST(Cli, RunOnceCreatesTheStateDirectoryAndReusesIt) {
  vmodem::testing::TempDir dir;
  const std::string state = (dir / "state").string();
  auto first = vmodem("run --once --state " + state + " --seed 9");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("BG95-M3"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "nand.img"));
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "vmodem.log"));
  auto second = vmodem("run --once --state " + state);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out.find("manufactured"), std::string::npos)
      << "the image is reused: " << second.out;
  EXPECT_EQ(vmodem("run --once --state " + state + " --profile bg77").exit_code, 4);
}

}  // namespace
