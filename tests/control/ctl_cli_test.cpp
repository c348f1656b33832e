// `vmodem ctl` as a user runs it, against a server in this process.
#include <array>
#include <cstdio>

#include <sys/wait.h>

#include "control/schema.hpp"
#include "process.hpp"
#include "server_fixture.hpp"

namespace vmodem::testing {
namespace {

using Outcome = ProcessOutcome;  // stdout and stderr together

Outcome run(const std::string& command) {
  return run_shell(command + " 2>&1");
}

class CtlTest : public ServerTest {
 protected:
  Outcome ctl(const std::string& args) {
    return run(std::string(VMODEM_BINARY) + " ctl --socket " + socket().string() + " " + args);
  }
  bool has(const Outcome& o, const std::string& text) {
    return o.out.find(text) != std::string::npos;
  }
};

TEST_F(CtlTest, HelpEverywhere) {
  auto top = run(std::string(VMODEM_BINARY) + " ctl --help");
  EXPECT_EQ(top.exit_code, 0);
  for (const auto& command : sim::control::command_table()) {
    if (command.name == "subscribe" || command.name == "unsubscribe" || command.name == "quit")
      continue;
    EXPECT_TRUE(has(top, std::string(command.name))) << command.name;
    auto help = run(std::string(VMODEM_BINARY) + " ctl " + std::string(command.name) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command.name;
    EXPECT_TRUE(has(help, "Returns:")) << help.out;
    for (const auto& arg : command.args)
      EXPECT_TRUE(has(help, "--" + std::string(arg.name))) << command.name << " " << arg.name;
  }
  for (const char* sub : {"events", "raw"})
    EXPECT_EQ(run(std::string(VMODEM_BINARY) + " ctl " + sub + " --help").exit_code, 0);
  EXPECT_EQ(run(std::string(VMODEM_BINARY) + " ctl").exit_code, 2) << "no command";
}

TEST_F(CtlTest, TextAndJson) {
  auto text = ctl("status");
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_TRUE(has(text, "power: app_rdy")) << text.out;
  auto json_out = ctl("status --json");  // global options after the command too
  ASSERT_EQ(json_out.exit_code, 0) << json_out.out;
  EXPECT_EQ(nlohmann::json::parse(json_out.out)["model"], "BG95-M3");
  auto ok = ctl("power-off");
  EXPECT_EQ(ok.out, "power: off\n");
  auto listing = ctl("query-commands");
  EXPECT_TRUE(has(listing, "power-cut")) << listing.out;
  EXPECT_TRUE(has(listing, "rule.effect")) << listing.out;
}

TEST_F(CtlTest, SimRemoveAndInsertPrintTheCard) {
  auto removed = ctl("sim-remove");
  ASSERT_EQ(removed.exit_code, 0) << removed.out;
  EXPECT_TRUE(has(removed, "sim: absent")) << removed.out;
  auto inserted = ctl("sim-insert --fresh --json");
  ASSERT_EQ(inserted.exit_code, 0) << inserted.out;
  EXPECT_EQ(nlohmann::json::parse(inserted.out)["sim"], "ready");
  EXPECT_EQ(target_.last_sim_fresh(), true);
}

TEST_F(CtlTest, SmsDeliverTakesTextAndRefusesBytesThatAreNotUtf8) {
  auto stored = ctl("sms-deliver --from +4917012345 --text 'Grüße' --json");
  ASSERT_EQ(stored.exit_code, 0) << stored.out;
  EXPECT_EQ(nlohmann::json::parse(stored.out)["storage"], "SM");
  auto bad = ctl("sms-deliver --from +1 --text $(printf '\\377')");
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  EXPECT_TRUE(has(bad, "UTF-8")) << bad.out;
  auto outbox = ctl("sms-outbox --json");
  ASSERT_EQ(outbox.exit_code, 0) << outbox.out;
  EXPECT_EQ(nlohmann::json::parse(outbox.out)["messages"][0]["text"], "hi");
}

// Armed rules are listed and removed by id (positional or --id) or all at
// once; an id that is not armed is refused with exit code 1.
TEST_F(CtlTest, FaultsListsArmedRulesAndDisarmRemovesThem) {
  auto listed = ctl("faults --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  const auto faults = nlohmann::json::parse(listed.out)["faults"];
  ASSERT_EQ(faults.size(), 1U) << listed.out;
  EXPECT_EQ(faults[0]["id"], 7);
  EXPECT_EQ(faults[0]["effect"], "power_cut");
  EXPECT_EQ(faults[0]["matches"], 2);
  auto wrong = ctl("disarm 8");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_TRUE(has(wrong, "no such rule")) << wrong.out;
  EXPECT_EQ(ctl("disarm").exit_code, 1) << "neither an id nor --all";
  auto removed = ctl("disarm 7 --json");
  ASSERT_EQ(removed.exit_code, 0) << removed.out;
  EXPECT_EQ(nlohmann::json::parse(removed.out)["disarmed"], nlohmann::json::array({7}));
  EXPECT_EQ(nlohmann::json::parse(ctl("faults --json").out)["faults"].size(), 0U);
}

TEST_F(CtlTest, NetworkOptionsBecomeTheRequest) {
  auto shaped = ctl("network --latency-ms 150 --bandwidth-kbps 64 --udp-loss 12.5 --detach --json");
  ASSERT_EQ(shaped.exit_code, 0) << shaped.out;
  EXPECT_EQ(nlohmann::json::parse(shaped.out)["latency_ms"], 150);
  const auto request = target_.last_network();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->latency_ms, 150U);
  EXPECT_EQ(request->bandwidth_kbps, 64U);
  EXPECT_EQ(request->udp_loss_percent, 12.5);
  EXPECT_EQ(request->coverage, false);
  EXPECT_FALSE(request->clear);
  auto both = ctl("network --detach --attach");
  EXPECT_NE(both.exit_code, 0) << "attach and detach at once is refused";
}

TEST_F(CtlTest, TypedOptionsBecomeArguments) {
  auto cut = ctl("power-cut --window 10,20 --seed 0x10 --mode before");
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  auto request = target_.last_power_cut();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->when, sim::PowerCutRequest::When::random_window);
  EXPECT_EQ(request->window_first, 10U);
  EXPECT_EQ(request->window_last, 20U);
  EXPECT_EQ(request->seed, 16U);
  EXPECT_EQ(request->mode, nand::CutMode::before);

  auto inject = ctl(R"(inject --kind rule --rule '{"effect":"erase_fail","ops":["erase"]}')");
  ASSERT_EQ(inject.exit_code, 0) << inject.out;
  EXPECT_EQ(target_.last_inject()->rule.effect, nand::FaultEffect::erase_fail);

  // A relative path is made absolute against the client's directory.
  auto saved = run("cd " + dir_.path().string() + " && " + VMODEM_BINARY + " ctl --socket " +
                   socket().string() + " snapshot-save --path snap.img --json");
  ASSERT_EQ(saved.exit_code, 0) << saved.out;
  EXPECT_EQ(nlohmann::json::parse(saved.out)["path"],
            (std::filesystem::canonical(dir_.path()) / "snap.img").string());
}

TEST_F(CtlTest, ExitCodes) {
  target_.fail_next("power-on", {"DeviceBusy", "already on"});
  auto busy = ctl("power-on");
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_TRUE(has(busy, "DeviceBusy: already on")) << busy.out;
  auto invalid = ctl("power-cut --after-operations 5 --partition usrfs");
  EXPECT_EQ(invalid.exit_code, 1) << "the server's InvalidParameter is an error reply";
  EXPECT_TRUE(has(invalid, "InvalidParameter")) << invalid.out;
  EXPECT_EQ(ctl("power-cut --mode sideways").exit_code, 2);
  EXPECT_EQ(ctl("power-cut --after-operations many").exit_code, 2);
  EXPECT_EQ(ctl("inject --partition usrfs").exit_code, 2) << "--kind is required";
  EXPECT_EQ(ctl("frobnicate").exit_code, 2);
  EXPECT_EQ(run(std::string(VMODEM_BINARY) + " ctl --socket x --state y status").exit_code, 2);

  auto absent =
      run(std::string(VMODEM_BINARY) + " ctl --state " + (dir_ / "none").string() + " status");
  EXPECT_EQ(absent.exit_code, 6);
  EXPECT_TRUE(has(absent, "vmodem run")) << absent.out;
}

// "-5" used to reach the module as 2^64 - 5 (armed, never firing): every
// number the client takes refuses a sign, before anything is sent.
TEST_F(CtlTest, NegativeNumbersAreRefusedNotWrapped) {
  for (const char* args :
       {"power-cut --after-operations -5", "power-cut --window -1,5",
        "power-cut --window 1,5 --seed -1", "power-cut --partition usrfs --nth -2"}) {
    auto refused = ctl(args);
    EXPECT_EQ(refused.exit_code, 2) << args << ": " << refused.out;
    EXPECT_TRUE(has(refused, "non-negative integer")) << args << ": " << refused.out;
  }
  EXPECT_FALSE(target_.last_power_cut()) << "nothing reached the module";
  EXPECT_EQ(ctl("inject --kind bit-flips --partition usrfs --block -1 --page 0").exit_code, 2);
  EXPECT_FALSE(target_.last_inject());
  auto count = ctl("events --count -5");
  EXPECT_EQ(count.exit_code, 2) << count.out;
  EXPECT_TRUE(has(count, "must not be negative")) << count.out;
  EXPECT_EQ(ctl("--timeout -1 status").exit_code, 2);
}

// The protocol carries JSON strings: bytes that are not UTF-8 are a usage
// error, not an abort while the request is serialised.
TEST_F(CtlTest, ArgumentsThatAreNotUtf8AreRefused) {
  auto path = ctl("snapshot-save --path \"$(printf '/tmp/bad\\377.img')\"");
  EXPECT_EQ(path.exit_code, 2) << path.out;
  EXPECT_TRUE(has(path, "UTF-8")) << path.out;
  auto filter = ctl("events --count 1 --filter \"$(printf 'URC\\377')\"");
  EXPECT_EQ(filter.exit_code, 2) << filter.out;
}

TEST_F(CtlTest, FindsTheSocketFromStateDirAndDefault) {
  auto by_state =
      run(std::string(VMODEM_BINARY) + " ctl --state " + dir_.path().string() + " status --json");
  EXPECT_EQ(by_state.exit_code, 0) << by_state.out;
  // The default: $XDG_STATE_HOME/vmodem/<profile>/control.sock, like `vmodem run`.
  const auto state = dir_ / "xdg" / "vmodem" / "bg95-m3";
  std::filesystem::create_directories(state);
  std::filesystem::create_symlink(socket(), state / "control.sock");
  auto by_default =
      run("XDG_STATE_HOME=" + (dir_ / "xdg").string() + " " + VMODEM_BINARY + " ctl status");
  EXPECT_EQ(by_default.exit_code, 0) << by_default.out;
}

TEST_F(CtlTest, EventsStreamUntilCount) {
  const std::string command = std::string(VMODEM_BINARY) + " ctl --socket " + socket().string() +
                              " events --count 2 --filter POWER_STATE 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_TRUE(pipe);
  ASSERT_TRUE(eventually([&] { return target_.listener_count() == 1; }));
  target_.emit({{"event", "URC"}, {"data", {{"text", "RDY"}}}});
  target_.emit({{"event", "POWER_STATE"}, {"data", {{"power", "booting"}}}});
  target_.emit({{"event", "POWER_STATE"}, {"data", {{"power", "rdy"}}}});
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe))
    out += buffer.data();
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_NE(out.find("POWER_STATE power=booting"), std::string::npos) << out;
  EXPECT_NE(out.find("POWER_STATE power=rdy"), std::string::npos) << out;
  EXPECT_EQ(out.find("URC"), std::string::npos) << out;
}

TEST_F(CtlTest, Raw) {
  auto ok = ctl(R"(raw '{"execute":"status","id":"x"}')");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["id"], "x");
  auto bad = ctl("raw 'garbage'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(bad.out)["error"]["class"], "GenericError");
}

}  // namespace
}  // namespace vmodem::testing
