// The scenario file: what it holds once loaded, and how a bad one is named
// (the file, the field, what was expected).
#include "campaign/scenario.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "campaign/runner.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::campaign {
namespace {

using vmodem::testing::TempDir;

class ScenarioFile : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  ScenarioError error_of(const std::string& text) {
    auto loaded = load_scenario(write("s.json", text));
    EXPECT_FALSE(loaded) << "accepted: " << text;
    return loaded ? ScenarioError{} : loaded.error();
  }
  TempDir dir_;
};

TEST_F(ScenarioFile, LoadsEveryField) {
  write("cert.pem", "0123456789");
  auto s = load_scenario(write("s.json", R"({
    "profile": "bg77", "seed": 9, "power_loss_mode": "safe",
    "setup": [{"send": "AT+QFUPL=\"a\",{size}", "data": "abc"}],
    "action": [{"send": "AT+QFUPL=\"cert.pem\",{size}", "data_file": "cert.pem"},
               {"send": "AT+QPRTPARA=11", "timeout_ms": 4000},
               {"wait_urc": "+QIND: \"FOTA\",\"END\",0", "timeout_ms": 9000}],
    "cuts": {"sample": 40, "first": 2, "last": 90, "modes": ["torn_unstable", "after"],
             "partitions": ["usrfs"], "kinds": ["program", "erase"],
             "recovery": {"sample": 3, "modes": ["before"], "kinds": ["erase"]}},
    "checks": [{"send": "AT+QFLST", "expect": "+QFLST: \"cert.pem\",10"}]})"));
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->profile, "bg77");
  EXPECT_EQ(s->seed, 9U);
  EXPECT_EQ(s->safe_power_loss, true);
  ASSERT_EQ(s->setup.size(), 1U);
  EXPECT_EQ(s->setup[0].send, "AT+QFUPL=\"a\",3") << "{size} is the data's length";
  ASSERT_EQ(s->action.size(), 3U);
  EXPECT_EQ(s->action[0].data, "0123456789") << "read relative to the scenario";
  EXPECT_EQ(s->action[0].send, "AT+QFUPL=\"cert.pem\",10");
  EXPECT_EQ(s->action[0].expect, "OK") << "the default";
  EXPECT_EQ(s->action[1].timeout_ms, 4000U);
  EXPECT_EQ(s->action[2].kind, AtStep::Kind::wait_urc);
  EXPECT_EQ(s->action[2].urc, "+QIND: \"FOTA\",\"END\",0");
  EXPECT_EQ(s->cuts.sample, 40U);
  EXPECT_EQ(s->cuts.first, 2U);
  EXPECT_EQ(s->cuts.last, 90U);
  EXPECT_EQ(s->cuts.modes,
            (std::vector<nand::CutMode>{nand::CutMode::torn_unstable, nand::CutMode::after}));
  EXPECT_EQ(s->cuts.partitions, std::vector<std::string>{"usrfs"});
  EXPECT_EQ(s->cuts.kinds, 0b110);
  EXPECT_EQ(s->cuts.recovery_sample, 3U);
  EXPECT_EQ(s->cuts.recovery_modes, std::vector<nand::CutMode>{nand::CutMode::before});
  EXPECT_EQ(s->cuts.recovery_kinds, 1U << static_cast<unsigned>(nand::OpKind::erase));
  ASSERT_EQ(s->checks.size(), 1U);
  EXPECT_EQ(s->checks[0].expect, "+QFLST: \"cert.pem\",10");
}

TEST_F(ScenarioFile, DefaultsAreAFreshBg95CutAtEveryOperationTornPartial) {
  auto s = load_scenario(write("s.json", R"({"action": [{"send": "AT+QPRTPARA=11"}]})"));
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->profile, "bg95-m3");
  EXPECT_TRUE(s->image.empty());
  EXPECT_FALSE(s->safe_power_loss) << "the profile's own mode";
  EXPECT_EQ(s->cuts.sample, 0U);
  EXPECT_EQ(s->cuts.modes, std::vector<nand::CutMode>{nand::CutMode::torn_partial});
  EXPECT_EQ(s->cuts.kinds, 0b111);
  EXPECT_EQ(s->cuts.recovery_sample, 0U) << "no second cuts unless asked";
}

TEST_F(ScenarioFile, BadInputNamesTheFileTheFieldAndWhatWasExpected) {
  const std::string file = (dir_ / "s.json").string();
  struct Bad {
    std::string text, field, message;
  };
  const Bad cases[] = {
      {R"({"action": [{"send": "AT"}], "cuts": {"modes": ["torn"]}})", "cuts.modes[0]",
       "expected torn_partial, torn_unstable, torn_random, before or after, got \"torn\""},
      {R"({"action": [{"send": "AT", "timeout_ms": -4}]})", "action[0].timeout_ms",
       "expected an integer from 1 to 3600000, got -4"},
      {R"({"action": []})", "action", "expected at least one step"},
      {R"({"setup": []})", "action", "missing"},
      {R"({"action": [{"sned": "AT"}]})", "action[0].send", "missing"},
      {R"({"action": [{"send": "AT", "expcet": "OK"}]})", "action[0].expcet",
       "unknown field (a typo? see README.md, \"Power-cut campaigns over your own flow\" for the "
       "schema)"},
      {R"({"action": [{"send": "AT", "data_file": "absent.bin"}]})", "action[0].data_file",
       "cannot open " + (dir_ / "absent.bin").string() + ": No such file or directory"},
      {R"({"action": [{"send": "AT", "data_file": "/dev/zero"}]})", "action[0].data_file",
       "/dev/zero is not a regular file"},
      {R"({"action": [{"send": "AT"}], "power_loss_mode": "careful"})", "power_loss_mode",
       "expected \"real\" or \"safe\", got \"careful\""},
      {R"({"action": [{"send": "AT"}], "cuts": {"kinds": ["write"]}})", "cuts.kinds[0]",
       "expected read, program or erase, got \"write\""},
      {R"({"action": [{"send": "AT"}], "cuts": {"recovery": {"sample": 0}}})",
       "cuts.recovery.sample", "expected an integer from 1 to 100000, got 0"},
      {R"({"action": [{"send": "AT"}], "cuts": {"recovery": {"modes": ["late"]}}})",
       "cuts.recovery.modes[0]",
       "expected torn_partial, torn_unstable, torn_random, before or after, got \"late\""},
      {R"({"action": [{"send": "AT"}], "cuts": {"recovery": {"depth": 2}}})", "cuts.recovery.depth",
       "unknown field (a typo? see README.md, \"Power-cut campaigns over your own flow\" for the "
       "schema)"},
      {R"({"action": [{"send": "AT"}], "cuts": {"first": 9, "last": 3}})", "cuts.last",
       "expected 0 (the action's last) or an operation >= first"},
      {R"({"action": [{"send": "AT\rAT"}]})", "action[0].send",
       "expected one command line (no CR or LF: the runner ends it)"},
      {R"({"action": [{"wait_urc": ""}]})", "action[0].wait_urc", "expected a URC line, got \"\""},
      {R"({"state": "nowhere", "action": [{"send": "AT"}]})", "state",
       "expected a vmodem run state directory holding nand.img; no " +
           (dir_ / "nowhere" / "nand.img").string()},
      {R"({"image": "none.img", "action": [{"send": "AT"}]})", "image",
       "expected a NAND image file; cannot read " + (dir_ / "none.img").string()},
  };
  for (const Bad& bad : cases) {
    const ScenarioError e = error_of(bad.text);
    EXPECT_EQ(e.file, file);
    EXPECT_EQ(e.field, bad.field) << bad.text;
    EXPECT_EQ(e.message, bad.message) << bad.text;
  }
  EXPECT_EQ(error_of("{\"action\": [").describe(), file + ": not valid JSON");
  EXPECT_EQ(error_of(R"({"action": [{"send": "AT"}], "cuts": {"modes": []}})").describe(),
            file + ": cuts.modes: expected at least one cut mode");
}

TEST_F(ScenarioFile, WhatOnlyTheProfileCanTellIsNamedToo) {
  auto s = load_scenario(write("s.json", R"({"action": [{"send": "AT"}],
      "cuts": {"partitions": ["usrfs", "usrf"]}})"));
  ASSERT_TRUE(s) << s.error().describe();
  const auto bad = check_with_profile(*s);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->field, "cuts.partitions[1]");
  EXPECT_TRUE(bad->message.starts_with("expected a partition of bg95-m3 (")) << bad->message;
  EXPECT_TRUE(bad->message.ends_with("), got \"usrf\"")) << bad->message;
  EXPECT_NE(bad->message.find("usrfs"), std::string::npos) << "the table is listed";
  const auto run = run_campaign(*s);
  ASSERT_FALSE(run) << "the runner refuses it too";
  EXPECT_EQ(run.error(), bad->describe());

  s = load_scenario(write("p.json", R"({"profile": "bg96-nope", "action": [{"send": "AT"}]})"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(check_with_profile(*s));
  EXPECT_EQ(check_with_profile(*s)->field, "profile");
  s = load_scenario(write("ok.json", R"({"action": [{"send": "AT"}],
      "cuts": {"partitions": ["usrfs", "usrfs_bak"]}})"));
  EXPECT_FALSE(check_with_profile(*s));
}

// A message quotes at most 40 bytes of the value it refuses, cut between
// characters: it stays UTF-8, so it can go into a JSON report.
TEST_F(ScenarioFile, AQuotedValueIsCutBetweenCharacters) {
  std::string text = "\"x";  // the 38th byte of the quoted value: inside an é
  for (int i = 0; i < 30; ++i)
    text += "\xc3\xa9";  // é
  text += "\"";
  const ScenarioError error = error_of(text);
  EXPECT_NE(error.message.find("expected an object, got \""), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("..."), std::string::npos) << error.message;
  EXPECT_NO_THROW((void)nlohmann::json(error.describe()).dump()) << error.message;
}

TEST_F(ScenarioFile, AnUnreadableFileIsNamed) {
  auto loaded = load_scenario(dir_ / "absent.json");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().describe(), (dir_ / "absent.json").string() + ": cannot open " +
                                           (dir_ / "absent.json").string() +
                                           ": No such file or directory");
  // A FIFO with no writer is refused at once, not waited on.
  const auto fifo = dir_ / "fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto from_fifo = load_scenario(fifo);
  ASSERT_FALSE(from_fifo);
  EXPECT_NE(from_fifo.error().message.find("is not a regular file"), std::string::npos)
      << from_fifo.error().describe();
}

// The shipped example in YAML is the JSON one: every step, its data, the
// cuts, and the data file found beside the scenario.
TEST_F(ScenarioFile, TheYamlExampleIsTheJsonExample) {
  const std::filesystem::path examples = VMODEM_EXAMPLES;
  auto json_one = load_scenario(examples / "cert-backup" / "scenario-safe.json");
  auto yaml_one = load_scenario(examples / "cert-backup" / "scenario-safe.yaml");
  ASSERT_TRUE(json_one) << json_one.error().describe();
  ASSERT_TRUE(yaml_one) << yaml_one.error().describe();
  EXPECT_EQ(yaml_one->profile, json_one->profile);
  EXPECT_EQ(yaml_one->seed, json_one->seed);
  EXPECT_EQ(yaml_one->safe_power_loss, json_one->safe_power_loss);
  EXPECT_EQ(yaml_one->cuts.modes, json_one->cuts.modes);
  for (const auto steps : {&Scenario::setup, &Scenario::action, &Scenario::checks}) {
    const auto& a = (*yaml_one).*steps;
    const auto& b = (*json_one).*steps;
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].send, b[i].send) << i;
      EXPECT_EQ(a[i].data, b[i].data) << i;
      EXPECT_EQ(a[i].expect, b[i].expect) << i;
      EXPECT_EQ(a[i].timeout_ms, b[i].timeout_ms) << i;
    }
  }
}

// YAML's own mistakes say where; a quoted number is a string, so the
// schema's message is the JSON one; a key given twice is refused.
TEST_F(ScenarioFile, BadYamlSaysWhereAndWhat) {
  auto broken = load_scenario(write("s.yaml", "action:\n  - send: [AT\n"));
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("not valid YAML: line "), std::string::npos)
      << broken.error().describe();

  auto quoted = load_scenario(write("q.yml", "seed: \"15\"\naction:\n  - send: AT\n"));
  ASSERT_FALSE(quoted);
  EXPECT_EQ(quoted.error().field, "seed") << quoted.error().describe();

  auto twice = load_scenario(write("t.yaml", "seed: 1\nseed: 2\naction:\n  - send: AT\n"));
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("\"seed\" given twice"), std::string::npos)
      << twice.error().describe();

  auto raw = load_scenario(write("r.yaml",
                                 "action:\n  - send: \"AT\xff"
                                 "\xfe\"\n"));
  ASSERT_FALSE(raw);
  EXPECT_NE(raw.error().message.find("not UTF-8 text"), std::string::npos)
      << raw.error().describe();

  // yaml-cpp quotes the byte it stumbled on: the message shows it escaped.
  auto escape = load_scenario(write("e.yaml", "a: \"\\\xf3\"\n"));
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("unknown escape character: \\xF3"), std::string::npos)
      << escape.error().describe();

  // "Billion laughs": nine levels of ten aliases each would be 10^9 values.
  std::string laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k)
      laughs += prev + (k < 9 ? ", " : "]\n");
  }
  auto bomb = load_scenario(write("bomb.yaml", laughs + "action:\n  - send: AT\n"));
  ASSERT_FALSE(bomb);
  EXPECT_NE(bomb.error().message.find("values once aliases are expanded"), std::string::npos)
      << bomb.error().describe();

  // Few values, much text: a 4 KB string aliased 10,000 times is 40 MB.
  std::string long_laughs = "s: &s " + std::string(4096, 'x') + "\nl1: &l1 [";
  for (int k = 0; k < 100; ++k)
    long_laughs += std::string(k ? ", " : "") + "*s";
  long_laughs += "]\nl2: [";
  for (int k = 0; k < 100; ++k)
    long_laughs += std::string(k ? ", " : "") + "*l1";
  long_laughs += "]\naction:\n  - send: AT\n";
  auto text_bomb = load_scenario(write("text-bomb.yaml", long_laughs));
  ASSERT_FALSE(text_bomb);
  EXPECT_NE(text_bomb.error().message.find("MB of text once aliases are expanded"),
            std::string::npos)
      << text_bomb.error().describe();

  auto plain =
      load_scenario(write("p.yaml", "seed: 7\naction:\n  - send: AT+CSQ\n    timeout_ms: 900\n"));
  ASSERT_TRUE(plain) << plain.error().describe();
  EXPECT_EQ(plain->seed, 7U);
  EXPECT_EQ(plain->action[0].timeout_ms, 900U);
}

}  // namespace
}  // namespace vmodem::sim::campaign
