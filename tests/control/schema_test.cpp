// The schema table, request parsing and argument validation, without a socket.
#include "control/schema.hpp"

#include <set>

#include <gtest/gtest.h>

#include "control/protocol.hpp"
#include "control/requests.hpp"

namespace {

using nlohmann::json;
using namespace vmodem::sim;
using namespace vmodem::sim::control;

ParsedLine parse(const json& request) {
  return parse_request(request.dump());
}

// The error of a request that must fail.
ControlError error_of(const json& request) {
  auto parsed = parse(request);
  EXPECT_FALSE(parsed.request) << request.dump();
  return parsed.request ? ControlError{} : parsed.request.error();
}

void expect_invalid(const std::string& command, const json& args, const std::string& name) {
  const auto error = error_of({{"execute", command}, {"arguments", args}});
  EXPECT_EQ(error.error_class, "InvalidParameter") << args.dump();
  EXPECT_NE(error.desc.find("'" + name + "'"), std::string::npos)
      << args.dump() << " -> " << error.desc;
}

TEST(Schema, TableIsComplete) {
  const std::set<std::string> wanted = {
      "query-commands", "status",        "power-on",   "power-off",       "power-cut",
      "reset",          "inject",        "stats",      "snapshot-save",   "snapshot-load",
      "backup-info",    "sim-remove",    "sim-insert", "network",         "gnss",
      "sms-deliver",    "sms-outbox",    "subscribe",  "unsubscribe",     "quit",
      "faults",         "disarm",        "crc32",      "checksum-update", "app-fota",
      "app-sync",       "fastboot-erase"};
  std::set<std::string> names;
  for (const auto& command : command_table()) {
    EXPECT_TRUE(names.insert(std::string(command.name)).second) << "duplicate " << command.name;
    EXPECT_FALSE(command.description.empty()) << command.name;
    EXPECT_FALSE(command.returns.empty()) << command.name;
    for (const auto& arg : command.args)
      EXPECT_FALSE(arg.description.empty()) << command.name << " " << arg.name;
  }
  EXPECT_EQ(names, wanted);
  const json described = describe_commands();
  ASSERT_EQ(described.size(), command_table().size());
  const auto cut = std::find_if(described.begin(), described.end(),
                                [](const json& c) { return c["name"] == "power-cut"; });
  ASSERT_NE(cut, described.end());
  std::set<std::string> cut_args;
  for (const auto& arg : (*cut)["arguments"])
    cut_args.insert(arg["name"]);
  EXPECT_EQ(cut_args, (std::set<std::string>{"after-operations", "partition", "op", "nth", "window",
                                             "seed", "mode"}));
}

TEST(Parse, Envelope) {
  EXPECT_TRUE(parse_request("").empty);
  EXPECT_TRUE(parse_request(" \r").empty);
  auto bad = parse_request("{\"execute\":");
  ASSERT_FALSE(bad.request);
  EXPECT_EQ(bad.request.error().error_class, "GenericError");
  EXPECT_NE(bad.request.error().desc.find("JSON parse error"), std::string::npos);
  EXPECT_EQ(error_of(json::array({1, 2})).error_class, "GenericError");
  EXPECT_EQ(error_of("status").error_class, "GenericError");
  EXPECT_EQ(error_of({{"arguments", json::object()}}).error_class, "GenericError");
  EXPECT_EQ(error_of({{"execute", 5}}).error_class, "GenericError");
  EXPECT_EQ(error_of({{"execute", "status"}, {"extra", 1}}).error_class, "GenericError");
  auto unknown = error_of({{"execute", "frobnicate"}});
  EXPECT_EQ(unknown.error_class, "CommandNotFound");
  EXPECT_NE(unknown.desc.find("frobnicate"), std::string::npos);
  EXPECT_EQ(error_of({{"execute", "status"}, {"arguments", 3}}).error_class, "InvalidParameter");

  auto ok = parse({{"execute", "status"}, {"id", {{"any", json::array({1, "x"})}}}});
  ASSERT_TRUE(ok.request);
  ASSERT_TRUE(ok.id);
  EXPECT_EQ((*ok.id)["any"][1], "x");
  EXPECT_TRUE(parse_request("{\"execute\":\"status\",\"arguments\":null}\r").request);
  auto failed_with_id = parse({{"execute", "nope"}, {"id", 7}});
  ASSERT_TRUE(failed_with_id.id) << "an id is echoed on errors too";
}

TEST(Parse, DeepNestingIsRefusedNotRecursed) {
  const std::string deep =
      "{\"execute\":\"status\",\"id\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto parsed = parse_request(deep);
  ASSERT_FALSE(parsed.request);
  EXPECT_NE(parsed.request.error().desc.find("nested"), std::string::npos);
  // Brackets inside strings do not count.
  EXPECT_TRUE(
      parse_request("{\"execute\":\"status\",\"id\":\"" + std::string(1000, '[') + "\"}").request);
}

TEST(Validate, EveryCommandRefusesUnknownArguments) {
  for (const auto& command : command_table()) {
    expect_invalid(std::string(command.name), {{"bogus", 1}}, "bogus");
    for (const auto& arg : command.args) {
      if (!arg.required) continue;
      auto error = error_of({{"execute", command.name}, {"arguments", json::object()}});
      EXPECT_NE(error.desc.find(std::string(arg.name)), std::string::npos) << command.name;
    }
  }
}

TEST(Validate, Types) {
  expect_invalid("power-cut", {{"after-operations", "10"}}, "after-operations");
  expect_invalid("power-cut", {{"after-operations", -1}}, "after-operations");
  expect_invalid("power-cut", {{"after-operations", 1.5}}, "after-operations");
  expect_invalid("power-cut", {{"after-operations", 0}}, "after-operations");  // min 1
  expect_invalid("power-cut", {{"mode", "sideways"}}, "mode");
  expect_invalid("power-cut", {{"partition", "usrfs"}, {"op", "program"}}, "op");
  expect_invalid("power-cut", {{"partition", "usrfs"}, {"op", {"program", "write"}}}, "op");
  expect_invalid("power-cut", {{"window", {1}}}, "window");
  expect_invalid("power-cut", {{"window", {1, "x"}}}, "window");
  expect_invalid("power-cut", {{"window", {-1, 5}}}, "window");
  expect_invalid("power-cut", {{"window", {1, 5}}, {"seed", -1}}, "seed");
  expect_invalid("inject", {{"kind", "rule"}, {"rule", {{"effect", "unstable"}, {"p", -0.5}}}},
                 "rule.p");
  expect_invalid("inject", {{"kind", "meteor"}}, "kind");
  expect_invalid("inject", {{"kind", "bit-flips"}, {"partition", 3}}, "partition");
  expect_invalid("inject", {{"kind", "bit-flips"}, {"bits", 0}}, "bits");
  expect_invalid("inject", {{"kind", "rule"}, {"rule", "x"}}, "rule");
  expect_invalid("inject", {{"kind", "rule"}, {"rule", json::object()}}, "rule.effect");
  expect_invalid("inject", {{"kind", "rule"}, {"rule", {{"effect", "melt"}}}}, "rule.effect");
  expect_invalid("inject", {{"kind", "rule"}, {"rule", {{"effect", "unstable"}, {"x", 1}}}},
                 "rule.x");
  expect_invalid("snapshot-save", {{"path", "relative.img"}}, "path");
  expect_invalid("snapshot-load", {{"path", ""}}, "path");
  expect_invalid("backup-info", {{"file-system", 7}}, "file-system");
  expect_invalid("subscribe", {{"events", "URC"}}, "events");
}

PowerCutRequest cut(const json& args) {
  auto request = power_cut_request(args);
  EXPECT_TRUE(request) << args.dump() << " " << (request ? "" : request.error().desc);
  return request.value_or(PowerCutRequest{});
}

TEST(Requests, PowerCut) {
  EXPECT_EQ(cut(json::object()).when, PowerCutRequest::When::now);
  auto after = cut({{"after-operations", 100}, {"mode", "torn_partial"}});
  EXPECT_EQ(after.when, PowerCutRequest::When::after_operations);
  EXPECT_EQ(after.operations, 100U);
  EXPECT_EQ(after.mode, vmodem::nand::CutMode::torn_partial);
  auto part = cut({{"partition", "usrfs"}, {"op", {"program", "erase"}}, {"nth", 3}});
  EXPECT_EQ(part.when, PowerCutRequest::When::partition_operation);
  EXPECT_EQ(part.partition, "usrfs");
  EXPECT_EQ(part.op_kinds, 0b110);
  EXPECT_EQ(part.operations, 3U);
  EXPECT_EQ(cut({{"partition", "usrfs"}}).operations, 1U) << "nth defaults to 1";
  auto window = cut({{"window", {10, 20}}, {"seed", 7}, {"mode", "before"}});
  EXPECT_EQ(window.when, PowerCutRequest::When::random_window);
  EXPECT_EQ(window.window_first, 10U);
  EXPECT_EQ(window.window_last, 20U);
  EXPECT_EQ(window.seed, 7U);
  EXPECT_EQ(window.mode, vmodem::nand::CutMode::before);
  EXPECT_FALSE(cut({{"window", {5, 5}}}).seed);
  // A seed as replies give it: a decimal string, exact to 2^64 - 1.
  EXPECT_EQ(cut({{"window", {1, 2}}, {"seed", "18446744073709551615"}}).seed,
            18446744073709551615ULL);
  expect_invalid("power-cut", {{"window", {1, 2}}, {"seed", "18446744073709551616"}}, "seed");
  expect_invalid("power-cut", {{"window", {1, 2}}, {"seed", "12a"}}, "seed");
  expect_invalid("power-cut", {{"window", {1, 2}}, {"seed", 1.5e19}}, "seed");

  auto clash = power_cut_request({{"after-operations", 1}, {"window", {1, 2}}});
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().desc.find("'window'"), std::string::npos);
  EXPECT_FALSE(power_cut_request({{"nth", 2}}));
  EXPECT_FALSE(power_cut_request({{"seed", 2}, {"after-operations", 4}}));
  EXPECT_FALSE(power_cut_request({{"window", {9, 3}}}));
  EXPECT_FALSE(power_cut_request({{"partition", "p"}, {"op", json::array()}}));
}

TEST(Requests, Inject) {
  using K = InjectRequest::Kind;
  auto flips = inject_request({{"kind", "bit-flips"},
                               {"partition", "usrfs"},
                               {"block", 2},
                               {"page", 5},
                               {"bits", 3},
                               {"sector", 1}});
  ASSERT_TRUE(flips);
  EXPECT_EQ(flips->kind, K::bit_flips);
  EXPECT_EQ(flips->partition, "usrfs");
  EXPECT_EQ(flips->block, 2U);
  EXPECT_EQ(flips->page, 5U);
  EXPECT_EQ(flips->bits, 3U);
  EXPECT_EQ(flips->sector, 1U);
  EXPECT_EQ(inject_request({{"kind", "bad-block"}, {"partition", "p"}, {"block", 1}})->kind,
            K::bad_block);
  EXPECT_EQ(inject_request({{"kind", "erase-partition"}, {"partition", "p"}})->kind,
            K::erase_partition);
  auto file = inject_request({{"kind", "corrupt-file"}, {"file-system", "ap"}, {"path", "a.txt"}});
  ASSERT_TRUE(file);
  EXPECT_EQ(file->file_system, "ap");
  EXPECT_EQ(file->path, "a.txt");

  auto missing = inject_request({{"kind", "unstable"}, {"partition", "p"}, {"block", 1}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().desc.find("'page'"), std::string::npos);
  auto extra =
      inject_request({{"kind", "bad-block"}, {"partition", "p"}, {"block", 1}, {"bits", 2}});
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().desc.find("'bits'"), std::string::npos);

  auto rule = inject_request({{"kind", "rule"},
                              {"rule",
                               {{"effect", "program_fail"},
                                {"ops", {"program"}},
                                {"partition", "modem"},
                                {"trigger", "every_match"},
                                {"max-fires", 0},
                                {"block-first", 4},
                                {"block-last", 9}}}});
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->rule.effect, vmodem::nand::FaultEffect::program_fail);
  EXPECT_EQ(rule->rule.ops, 0b010);
  EXPECT_EQ(rule->rule.partition, "modem");
  EXPECT_EQ(rule->rule.trigger, vmodem::nand::Trigger::every_match);
  EXPECT_EQ(rule->rule.max_fires, 0U);
  EXPECT_EQ(rule->rule.block_first, 4U);
  EXPECT_EQ(rule->rule.block_last, 9U);
  EXPECT_FALSE(inject_request(
      {{"kind", "rule"}, {"rule", {{"effect", "unstable"}, {"trigger", "probability"}}}}))
      << "probability needs p";
  EXPECT_FALSE(
      inject_request({{"kind", "rule"},
                      {"rule", {{"effect", "unstable"}, {"trigger", "probability"}, {"p", 2}}}}));
}

TEST(Protocol, Lines) {
  const json greeting = json::parse(greeting_line("1.2", "BG77"));
  EXPECT_EQ(greeting["vmodem"]["version"], "1.2");
  EXPECT_EQ(greeting["vmodem"]["model"], "BG77");
  EXPECT_TRUE(greeting["capabilities"].is_array());
  EXPECT_EQ(json::parse(return_line(json(), json(3)))["return"], json::object());
  const json event = json::parse(event_line({{"event", "URC"}}));
  EXPECT_TRUE(event["data"].is_object());
  EXPECT_TRUE(event["timestamp"]["seconds"].is_number_integer());
  EXPECT_TRUE(event["timestamp"]["microseconds"].is_number_integer());
  // Invalid UTF-8 never throws out of serialisation: such bytes read \xHH.
  const std::string line = error_line({"GenericError", "bad \xff\xfe bytes"}, std::nullopt);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_EQ(json::parse(line)["error"]["desc"], "bad \\xFF\\xFE bytes");
  const json urc = json::parse(event_line(
      {{"event", "URC"}, {"data", {{"text", "+QIND: \"FOTA\",\"v\x80\""}, {"port", "at"}}}}));
  EXPECT_EQ(urc["data"]["text"], "+QIND: \"FOTA\",\"v\\x80\"");
}

}  // namespace
