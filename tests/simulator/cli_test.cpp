// The real vmodem binary, as a user or a CI script runs it.
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <vmodem/simulator/profile.hpp>

#include "process.hpp"
#include "temp_dir.hpp"

namespace {

using Outcome = vmodem::testing::ProcessOutcome;  // stdout and stderr together

Outcome vmodem(const std::string& args) {
  return vmodem::testing::run_shell(std::string(VMODEM_BINARY) + " " + args + " 2>&1");
}

// stdout only (JSON), stderr to the test's log.
Outcome vmodem_json(const std::string& args) {
  return vmodem::testing::run_shell(std::string(VMODEM_BINARY) + " " + args + " --json");
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// A shell word holding `octal`'s bytes (printf escapes: bad\377name).
std::string shell_bytes(const std::string& octal) {
  return "\"$(printf '" + octal + "')\"";
}

// The subcommands a --help lists (the lines after "Subcommands:").
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> names;
  const auto at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return names;
  std::istringstream lines(help.substr(at + 14));
  std::string line;
  while (std::getline(lines, line) && line.starts_with("  ")) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

TEST(Cli, HelpOnEveryCommand) {
  std::vector<std::string> pending = {""};
  std::size_t seen = 0;
  while (!pending.empty()) {
    const std::string cmd = pending.back();
    pending.pop_back();
    ++seen;
    auto r = vmodem(cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd;
    for (const auto& sub : subcommands_in(r.out))
      pending.push_back(cmd.empty() ? sub : cmd + " " + sub);
  }
  EXPECT_GT(seen, 40U) << "every command, walked from vmodem --help";
  const auto bare = vmodem("");
  EXPECT_EQ(bare.exit_code, 2) << "no subcommand is a usage error";
  EXPECT_NE(bare.out.find("Subcommands:"), std::string::npos) << "...that shows them: " << bare.out;
  const auto help = vmodem("help ctl");
  EXPECT_EQ(help.exit_code, 0) << help.out;
  EXPECT_NE(help.out.find("Usage: vmodem ctl"), std::string::npos) << help.out;
  const auto unknown = vmodem("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown command 'frobnicate'; the commands are run, "),
            std::string::npos)
      << unknown.out;
}

// `vmodem profiles` names what --profile takes, and a model name is taken in
// any case.
TEST(Cli, ProfilesListsTheBuiltInModulesAndModelNamesWork) {
  auto listed = vmodem("profiles --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  const auto profiles = nlohmann::json::parse(listed.out)["profiles"];
  ASSERT_EQ(profiles.size(), 7U) << listed.out;
  std::map<std::string, std::string> model_of, family_of;
  for (const auto& p : profiles) {
    model_of[p["name"]] = p["model"];
    family_of[p["name"]] = p["family"];
  }
  EXPECT_EQ(model_of["bg95-m3"], "BG95-M3");
  EXPECT_EQ(family_of["uc20"], "uc20");
  EXPECT_EQ(family_of["bg77"], "bg95");
  EXPECT_EQ(family_of["bg95-m3-quecpython"], "quecpython");
  EXPECT_EQ(family_of["ec25"], "ec2x-quecopen");
  EXPECT_EQ(model_of["ec25"], "EC25");
  EXPECT_EQ(family_of["eg25-g"], "ec2x-quecopen");
  EXPECT_EQ(model_of["eg25-g"], "EG25-G");
  const auto text = vmodem("profiles");
  EXPECT_NE(text.out.find("bg600l-m3  BG600L-M3  bg95"), std::string::npos) << text.out;
  vmodem::testing::TempDir dir;
  const auto made = vmodem("image create " + (dir / "m.img").string() + " --profile BG95-M3");
  EXPECT_EQ(made.exit_code, 0) << made.out;
  const auto wrong = vmodem("image create " + (dir / "n.img").string() + " --profile BG96");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.out;
  EXPECT_NE(wrong.out.find("built in: "), std::string::npos) << wrong.out;
}

TEST(Cli, CreateInfoInjectDumpStats) {
  vmodem::testing::TempDir dir;
  const std::string img = (dir / "m.img").string();
  auto created = vmodem("image create " + img + " --profile bg77 --seed 3 --json");
  ASSERT_EQ(created.exit_code, 0) << created.out;
  const auto made = nlohmann::json::parse(created.out);
  EXPECT_EQ(made["seed"], "3");
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

// File names, versions and models are bytes; --json writes those that are
// not UTF-8 as \xHH (README "JSON output") instead of aborting.
TEST(Cli, JsonOutputEscapesBytesThatAreNotUtf8) {
  vmodem::testing::TempDir dir;
  const std::string img = (dir / "m.img").string();
  ASSERT_EQ(vmodem("image create " + img + " --seed 5").exit_code, 0);
  ASSERT_EQ(vmodem("image format " + img + " usrfs --yes").exit_code, 0);
  write_file(dir / "host.bin",
             "\xFF\xFE"
             "data");
  auto put = vmodem("image put " + img + " usrfs " + (dir / "host.bin").string() + " /" +
                    shell_bytes("bad\\377name"));
  ASSERT_EQ(put.exit_code, 0) << put.out;

  auto ls = vmodem_json("image ls " + img + " usrfs");
  ASSERT_EQ(ls.exit_code, 0) << ls.out;
  const auto listing = nlohmann::json::parse(ls.out, nullptr, false);
  ASSERT_FALSE(listing.is_discarded()) << ls.out;
  bool found = false;
  for (const auto& e : listing["entries"])
    found |= e["name"] == "bad\\xFFname" && e["path"] == "/bad\\xFFname";
  EXPECT_TRUE(found) << ls.out;

  auto cat = vmodem_json("image cat " + img + " usrfs /" + shell_bytes("bad\\377name"));
  ASSERT_EQ(cat.exit_code, 0) << cat.out;
  EXPECT_EQ(nlohmann::json::parse(cat.out)["text"],
            "\\xFF\\xFE"
            "data");

  // A package whose model and versions are not UTF-8.
  write_file(dir / "old.bin", std::string(5000, 'a'));
  write_file(dir / "new.bin", std::string(5000, 'a') + "b");
  const std::string pkg = (dir / "p.pkg").string();
  auto made =
      vmodem("delta make -q " + (dir / "old.bin").string() + " " + (dir / "new.bin").string() +
             " -o " + pkg + " --model " + shell_bytes("M\\376") + " --old-version " +
             shell_bytes("v1\\377") + " --new-version v2");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  auto info = vmodem_json("delta info " + pkg);
  ASSERT_EQ(info.exit_code, 0) << info.out;
  const auto header = nlohmann::json::parse(info.out, nullptr, false);
  ASSERT_FALSE(header.is_discarded()) << info.out;
  EXPECT_EQ(header["model"], "M\\xFE");
  EXPECT_EQ(header["source_version"], "v1\\xFF");
  auto applied = vmodem_json("delta apply -q " + (dir / "old.bin").string() + " " + pkg + " -o " +
                             (dir / "out.bin").string());
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  EXPECT_EQ(nlohmann::json::parse(applied.out)["source_version"], "v1\\xFF");
}

// A sign used to wrap ("-1" became 2^64 - 1) or to mean "absent".
TEST(Cli, NegativeNumbersAreRefused) {
  vmodem::testing::TempDir dir;
  const std::string img = (dir / "m.img").string();
  auto seed = vmodem("image create " + img + " --seed -1");
  EXPECT_EQ(seed.exit_code, 2) << seed.out;
  EXPECT_FALSE(std::filesystem::exists(img));
  ASSERT_EQ(vmodem("image create " + img + " --seed 1").exit_code, 0);
  auto sector = vmodem("image inject " + img + " 0 2 --partition usrfs --bit-flips 1 --sector -5");
  EXPECT_EQ(sector.exit_code, 2) << sector.out;
  EXPECT_NE(sector.out.find("must not be negative"), std::string::npos) << sector.out;
  EXPECT_EQ(vmodem("image dump-page " + img + " -1 0").exit_code, 2);
  EXPECT_EQ(vmodem("run --once --state " + (dir / "s").string() + " --seed -3").exit_code, 2);
}

// A profile the layers cannot serve is refused when it is loaded, by every
// command, with exit 2 and the field: not by an overrun or a boot that never
// reaches RDY (10 s).
TEST(Cli, ProfilesTheLayersCannotServeExit2AtOnce) {
  vmodem::testing::TempDir dir;
  auto small_pages = vmodem::sim::load_profile("bg95-m3")->document;
  small_pages["nand"]["page_size"] = 512;
  small_pages["nand"]["spare_size"] = 16;
  auto no_ap_fs = vmodem::sim::load_profile("bg95-m3")->document;
  no_ap_fs["partitions"][10]["role"] = "none";
  const auto small = dir / "small.json";
  const auto no_ap = dir / "no_ap.json";
  std::ofstream(small) << small_pages.dump();
  std::ofstream(no_ap) << no_ap_fs.dump();
  for (const auto& [profile, field] :
       {std::pair{small, "nand.spare_size"},
        std::pair{no_ap, "partitions: no partition has role ap_fs"}}) {
    for (const std::string& command : {"run --once --state " + (dir / "state").string(),
                                       "image create " + (dir / "m.img").string()}) {
      const auto started = std::chrono::steady_clock::now();
      auto r = vmodem(command + " --profile " + profile.string());
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out;
      EXPECT_NE(r.out.find(field), std::string::npos) << command << ": " << r.out;
      EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << command;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "m.img"));
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

// `--state st` as a user types it: relative to the working directory, which
// has no such directory yet.
TEST(Cli, ARelativeStateDirectoryIsCreated) {
  vmodem::testing::TempDir dir;
  auto r =
      vmodem::testing::run_shell("cd " + dir.path().string() + " && " + std::string(VMODEM_BINARY) +
                                 " run --once --state st --seed 3 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "st" / "nand.img"));
}

// A profile travels with the image it made: later commands need no
// --profile (even when the profile's file is gone), an override that lays
// out the NAND the same way is taken, one that does not is refused.
TEST(Cli, AnImageKeepsItsProfile) {
  vmodem::testing::TempDir dir;
  auto document = vmodem::sim::load_profile("bg77")->document;
  document["name"] = "my-bg77";
  write_file(dir / "my.json", document.dump());
  const std::string img = (dir / "st" / "nand.img").string();
  std::filesystem::create_directories(dir / "st");
  ASSERT_EQ(vmodem("image create " + img + " --profile " + (dir / "my.json").string() + " --seed 3")
                .exit_code,
            0);
  std::filesystem::remove(dir / "my.json");

  const auto info = nlohmann::json::parse(vmodem_json("image info " + img).out);
  EXPECT_EQ(info["profile"], "my-bg77");
  EXPECT_EQ(info["profile_kept_in_image"], true);
  EXPECT_EQ(vmodem("image ls " + img + " usrfs").exit_code, 0);
  EXPECT_EQ(vmodem("firmware info " + img).exit_code, 0);
  const auto run = vmodem("run --once --state " + (dir / "st").string());
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("BG77"), std::string::npos) << run.out;

  EXPECT_EQ(vmodem("image info " + img + " --profile bg77").exit_code, 0)
      << "the built-in bg77 lays out the NAND as my-bg77 does";
  const auto other = vmodem("image ls " + img + " usrfs --profile bg95-m3");
  EXPECT_EQ(other.exit_code, 4) << other.out;
  EXPECT_NE(other.out.find("made for profile 'my-bg77'"), std::string::npos) << other.out;
}

}  // namespace
