// NvSettings: the NV settings file is hostile input (a host writes it through
// a FUSE mount or the image tools) and AT commands store whatever bytes a
// host sends. Every field that does not validate falls back to its default
// and is reported; strings round-trip byte for byte.
#include "module/nv_settings.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

#include "json_text.hpp"

namespace vmodem::sim {
namespace {

using nlohmann::json;
using namespace std::string_literals;

std::vector<std::string> keys_of(const std::vector<NvProblem>& problems) {
  std::vector<std::string> keys;
  for (const auto& p : problems)
    keys.push_back(p.key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST(NvSettingsDecode, EveryFieldOfTheWrongTypeFallsBackToItsDefault) {
  const json doc = {
      {"profile", {{"echo", "yes"}, {"verbose", 1}, {"quiet", nullptr}, {"cmee", "2"}}},
      {"cscs", 5},
      {"contexts",
       {{"2",
         {{"type", "IP"},
          {"apn", 7},
          {"user", json::array()},
          {"password", {{"hex", 12}}},
          {"auth", true}}}}},
      {"qcfg/fota/cid", "1"},
      {"qcfg/nwscanmode", 1.0},
      {"qcfg/iotopmode", false},
      {"qcfg/servicedomain", json::object()},
      {"qcfg/psm/urc", json::array({1})},
      {"qcfg/apready", "0"},
      {"urcport", 1},
      {"ctzu", "1"},
  };
  const auto decoded = decode_nv_settings(doc.dump());

  NvValues want;
  want.profile = AtProfile{};  // present (AT&W was used), every member at the port's default
  want.contexts[2] = PdpContext{};
  EXPECT_EQ(decoded.values, want);
  EXPECT_EQ(keys_of(decoded.problems),
            (std::vector<std::string>{
                "contexts.2.apn", "contexts.2.auth", "contexts.2.password", "contexts.2.type",
                "contexts.2.user", "cscs", "ctzu", "profile.cmee", "profile.echo", "profile.quiet",
                "profile.verbose", "qcfg/apready", "qcfg/fota/cid", "qcfg/iotopmode",
                "qcfg/nwscanmode", "qcfg/psm/urc", "qcfg/servicedomain", "urcport"}));
  for (const auto& p : decoded.problems) {
    EXPECT_FALSE(p.reason.empty()) << p.key;
    EXPECT_NE(p.reason.find("expected"), std::string::npos) << p.key << ": " << p.reason;
  }
  EXPECT_TRUE(decoded.unknown.empty());
}

TEST(NvSettingsDecode, ContainersOfTheWrongTypeFallBack) {
  const auto decoded = decode_nv_settings(R"({"profile": 3, "contexts": ["1"]})");
  EXPECT_EQ(decoded.values, NvValues{});
  EXPECT_EQ(keys_of(decoded.problems), (std::vector<std::string>{"contexts", "profile"}));
}

TEST(NvSettingsDecode, OutOfRangeValuesFallBackAndTheOtherFieldsKeepTheirs) {
  const json doc = {
      {"profile", {{"echo", false}, {"cmee", 3}}},
      {"cscs", "UTF-8"},
      {"contexts",
       {{"1", {{"type", 0}, {"apn", std::string(101, 'a')}, {"auth", 4}}},
        {"3", {{"type", 2}, {"apn", "kept"}, {"user", std::string(128, 'u')}}},
        {"17", {{"type", 1}}},
        {"x", {{"type", 1}}},
        {"4", "IP"}}},
      {"qcfg/fota/cid", 17},
      {"qcfg/iotopmode", -1},
      {"qcfg/nwscanmode", 18446744073709551615ULL},
      {"qcfg/servicedomain", 2},
      {"urcport", "usb"},
      {"ctzu", 0},
  };
  const auto decoded = decode_nv_settings(doc.dump());
  EXPECT_EQ(keys_of(decoded.problems),
            (std::vector<std::string>{"contexts.1.apn", "contexts.1.auth", "contexts.1.type",
                                      "contexts.17", "contexts.3.user", "contexts.4", "contexts.x",
                                      "cscs", "profile.cmee", "qcfg/fota/cid", "qcfg/iotopmode",
                                      "qcfg/nwscanmode", "urcport"}));
  const NvValues& v = decoded.values;
  AtProfile echo_off;
  echo_off.echo = false;
  EXPECT_EQ(v.profile, echo_off);
  EXPECT_EQ(v.cscs, "GSM");
  ASSERT_EQ(v.contexts.size(), 2U);
  EXPECT_EQ(v.contexts.at(1), PdpContext{});
  EXPECT_EQ(v.contexts.at(3), (PdpContext{2, "kept", "", "", 0}));
  EXPECT_EQ(v.qcfg_value(Qcfg::fota_cid), 1);
  EXPECT_EQ(v.qcfg_value(Qcfg::iotopmode), 2);
  EXPECT_EQ(v.qcfg_value(Qcfg::nwscanmode), 0);
  EXPECT_EQ(v.qcfg_value(Qcfg::servicedomain), 2);
  EXPECT_EQ(v.urcport, "usbat");
  EXPECT_EQ(v.ctzu, 0);
}

TEST(NvSettingsDecode, TheSimStateRoundTripsAndBadFieldsFallBackToTheIssuedCard) {
  NvValues values;
  values.sim = SimNv{.pin_enabled = true, .pin = "87654321", .pin_retries = 0, .puk_retries = 9};
  const auto back = decode_nv_settings(encode_nv_settings(values, json::object()));
  EXPECT_TRUE(back.problems.empty());
  EXPECT_EQ(back.values.sim, values.sim);

  const json doc = {
      {"sim", {{"pin_enabled", "yes"}, {"pin", "12a4"}, {"pin_retries", 4}, {"puk_retries", -1}}}};
  const auto decoded = decode_nv_settings(doc.dump());
  EXPECT_EQ(decoded.values.sim, SimNv{}) << "each bad field reads as the card as issued";
  EXPECT_EQ(keys_of(decoded.problems),
            (std::vector<std::string>{"sim.pin", "sim.pin_enabled", "sim.pin_retries",
                                      "sim.puk_retries"}));
  EXPECT_EQ(decode_nv_settings(R"({"sim": {"pin": "123"}})").problems.size(), 1U);
  EXPECT_EQ(decode_nv_settings(R"({"sim": 5})").problems.size(), 1U);
}

TEST(NvSettingsDecode, AFileThatIsNotAJsonObjectReadsAsDefaults) {
  for (const std::string text : {"", "{", "\xFF\xFE", "[1,2]", "\"urcport\"", "null"}) {
    const auto decoded = decode_nv_settings(text);
    EXPECT_EQ(decoded.values, NvValues{}) << text;
    ASSERT_EQ(decoded.problems.size(), 1U) << text;
    EXPECT_EQ(decoded.problems[0].key, "") << text;
  }
}

TEST(NvSettingsDecode, UnknownKeysAreIgnoredAndKept) {
  const auto decoded = decode_nv_settings(
      R"({"future": {"a": [1, 2]}, "qcfg/band": 3, "urcport": "uart1", "contexts": {}})");
  EXPECT_TRUE(decoded.problems.empty());
  EXPECT_EQ(decoded.values.urcport, "uart1");
  EXPECT_EQ(decoded.unknown, (json{{"future", {{"a", {1, 2}}}}, {"qcfg/band", 3}}));
  const auto again = json::parse(encode_nv_settings(decoded.values, decoded.unknown));
  EXPECT_EQ(again["future"], (json{{"a", {1, 2}}}));
  EXPECT_EQ(again["qcfg/band"], 3);
}

TEST(NvSettingsDecode, TheUntypedStoresFilesStillLoad) {
  // As NvStore wrote them before NvSettings: state directories keep their settings.
  const auto decoded = decode_nv_settings(R"({
    "profile": {"echo": false, "verbose": true, "quiet": false, "cmee": 2},
    "cscs": "IRA",
    "contexts": {"1": {"type": 1, "apn": "internet", "user": "", "password": "", "auth": 0},
                 "10": {"type": 3, "apn": "m2m", "user": "me", "password": "pw", "auth": 2}},
    "qcfg/fota/cid": 10, "qcfg/psm/urc": 1, "urcport": "usbmodem", "ctzu": 3})");
  EXPECT_TRUE(decoded.problems.empty());
  const NvValues& v = decoded.values;
  EXPECT_EQ(v.profile, (AtProfile{.echo = false, .verbose = true, .quiet = false, .cmee = 2}));
  EXPECT_EQ(v.cscs, "IRA");
  EXPECT_EQ(v.contexts.at(1), (PdpContext{1, "internet", "", "", 0}));
  EXPECT_EQ(v.contexts.at(10),
            (PdpContext{.type = 3, .apn = "m2m", .user = "me", .password = "pw", .auth = 2}));
  EXPECT_EQ(v.qcfg_value(Qcfg::fota_cid), 10);
  EXPECT_EQ(v.qcfg_value(Qcfg::psm_urc), 1);
  EXPECT_EQ(v.urcport, "usbmodem");
  EXPECT_EQ(v.ctzu, 3);
}

TEST(NvSettingsDecode, HexStringsMustBePairsOfHexDigits) {
  const auto decoded = decode_nv_settings(
      R"({"contexts": {"2": {"apn": {"hex": "f"}, "user": {"hex": "zz"}, "password": {"hex": "C3a9"}}}})");
  EXPECT_EQ(keys_of(decoded.problems),
            (std::vector<std::string>{"contexts.2.apn", "contexts.2.user"}));
  EXPECT_EQ(decoded.values.contexts.at(2).password, "\xC3\xA9");
}

// A RAM chip with a formatted file system, mounted.
class NvSettingsStore : public ::testing::Test {
 protected:
  NvSettingsStore() {
    nand::Geometry geometry;
    geometry.block_count = 32;
    storage_ = std::move(nand::Storage::create_in_memory(geometry).value());
    chip_ = std::make_unique<nand::SimulatedChip>(*storage_, nand::ChipConfig{});
    EXPECT_TRUE(fs::FileSystem::format(*chip_, config_));
    remount();
  }

  void remount() {
    fs_.reset();
    auto mounted = fs::FileSystem::mount(*chip_, config_);
    ASSERT_TRUE(mounted) << mounted.error().message();
    fs_ = std::make_unique<fs::SharedFileSystem>(std::move(*mounted));
  }

  std::string file_text() {
    auto bytes = fs_->lock()->read_file(NvSettings::kPath);
    EXPECT_TRUE(bytes);
    return bytes ? std::string(bytes->begin(), bytes->end()) : "";
  }

  void write_text(const std::string& text) {
    ASSERT_TRUE(fs_->lock()->mkdir("/nv"));
    ASSERT_TRUE(fs_->lock()->mkdir("/nv/vmodem"));
    ASSERT_TRUE(fs_->lock()->write_file(
        NvSettings::kPath, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  }

  fs::Config config_{};
  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
  std::unique_ptr<fs::SharedFileSystem> fs_;
};

TEST_F(NvSettingsStore, AnyBytesRoundTripThroughTheFile) {
  NvSettings nv;
  EXPECT_TRUE(nv.attach(fs_.get()).empty()) << "no file yet: defaults, nothing to report";
  const PdpContext two{.type = 1, .apn = "\xFF"s, .user = "", .password = "", .auth = 0};
  const PdpContext three{
      .type = 3, .apn = "\xFF\0x"s, .user = "\x80"s, .password = "\xC3"s, .auth = 1};
  const PdpContext four{
      .type = 2, .apn = "caf\xC3\xA9", .user = "\0"s, .password = "\"\\", .auth = 0};
  ASSERT_TRUE(nv.update([&](NvValues& v) {
    v.contexts[2] = two;
    v.contexts[3] = three;
    v.contexts[4] = four;
  }));

  const std::string text = file_text();
  EXPECT_TRUE(is_valid_utf8(text));
  const auto doc = json::parse(text);
  EXPECT_EQ(doc["contexts"]["2"]["apn"], (json{{"hex", "ff"}}));
  EXPECT_EQ(doc["contexts"]["3"]["apn"], (json{{"hex", "ff0078"}}));
  EXPECT_EQ(doc["contexts"]["4"]["apn"], "caf\xC3\xA9") << "valid UTF-8 stays readable";

  remount();
  NvSettings reread;
  EXPECT_TRUE(reread.attach(fs_.get()).empty());
  EXPECT_EQ(reread.values().contexts.at(2), two);
  EXPECT_EQ(reread.values().contexts.at(3), three);
  EXPECT_EQ(reread.values().contexts.at(4), four);
  EXPECT_EQ(reread.values(), nv.values());
}

TEST_F(NvSettingsStore, ABadFieldIsReportedAndTheNextWriteReplacesIt) {
  write_text(R"({"urcport": 1, "ctzu": 0, "later": true})");
  NvSettings nv;
  const auto problems = nv.attach(fs_.get());
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].key, "urcport");
  EXPECT_EQ(problems[0].reason, "expected a string, found number");
  EXPECT_EQ(nv.values().urcport, "usbat");
  EXPECT_EQ(nv.values().ctzu, 0);

  ASSERT_TRUE(nv.update([](NvValues& v) { v.cscs = "UCS2"; }));
  const auto doc = json::parse(file_text());
  EXPECT_EQ(doc["urcport"], "usbat");
  EXPECT_EQ(doc["ctzu"], 0);
  EXPECT_EQ(doc["cscs"], "UCS2");
  EXPECT_EQ(doc["later"], true);
  NvSettings reread;
  EXPECT_TRUE(reread.attach(fs_.get()).empty());
}

TEST_F(NvSettingsStore, WithoutAFileSystemChangesLastThisBootOnly) {
  NvSettings nv;
  EXPECT_TRUE(nv.attach(nullptr).empty());
  EXPECT_FALSE(nv.update([](NvValues& v) { v.ctzu = 0; }));
  EXPECT_EQ(nv.values().ctzu, 0);
}

}  // namespace
}  // namespace vmodem::sim
