// The campaign's reports and how a campaign is split: shards and workers
// give the report an unsharded single-worker run gives, merge refuses what
// is not one campaign's shards, a stop gives a partial report, and the
// JSON, JUnit and HTML forms carry hostile transcripts safely (the JUnit's
// XML is also parsed by the e2e tests, tests/e2e/campaign_report_e2e_test.cpp).
#include "campaign/report.hpp"

#include <gtest/gtest.h>

#include "campaign/markup.hpp"
#include "campaign/runner.hpp"
#include "json_text.hpp"
#include "test_seed.hpp"

namespace vmodem::sim::campaign {
namespace {

Scenario real_upload_then_backup(std::uint32_t sample) {
  auto s = parse_scenario(R"({
    "power_loss_mode": "real",
    "setup": [{"send": "AT+QFUPL=\"device.cfg\",{size}", "data": "apn=internet\n"}],
    "action": [{"send": "AT+QFUPL=\"cert.pem\",{size}", "data": "-----BEGIN CERTIFICATE-----\n"},
               {"send": "AT+QPRTPARA=11", "timeout_ms": 4000}],
    "cuts": {"modes": ["torn_partial", "before"]}})",
                          "inline.json");
  EXPECT_TRUE(s) << s.error().describe();
  s->cuts.sample = sample;
  s->seed = vmodem::testing::test_seed(15);
  return *s;
}

// The report as JSON with what may differ between equal campaigns (the
// wall clock, and how many power-ups the cuts shared: fewer in a shard)
// left out.
nlohmann::json comparable(const Report& r) {
  auto j = to_json(r, "r.json");
  j.erase("seconds");
  j.erase("power_ups");
  return j;
}

TEST(CampaignSplit, ShardsMergedAndWorkersGiveTheUnshardedReport) {
  const Scenario s = real_upload_then_backup(5);
  const auto whole = run_campaign(s);
  ASSERT_TRUE(whole) << whole.error();
  ASSERT_EQ(whole->result.cuts, 10U) << "5 operations in 2 modes";
  EXPECT_EQ(whole->planned, 10U);
  std::vector<Report> shards;
  for (std::uint32_t i : {1U, 0U}) {  // any order
    RunOptions options;
    options.shard = {i, 2};
    auto shard = run_campaign(s, options);
    ASSERT_TRUE(shard) << shard.error();
    EXPECT_EQ(shard->cuts.size(), 5U) << "half the cuts";
    EXPECT_EQ(shard->planned, 5U);
    shards.push_back(std::move(*shard));
  }
  auto merged = merge(shards);
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(comparable(*merged), comparable(*whole));

  RunOptions two;
  two.workers = 2;
  std::uint64_t calls = 0, last_done = 0;
  two.on_cut = [&](const CutRecord&, std::uint64_t done, std::uint64_t planned) {
    ++calls;
    EXPECT_EQ(done, last_done + 1) << "progress counts every worker's cuts, one call at a time";
    last_done = done;
    EXPECT_EQ(planned, 10U);
  };
  const auto parallel = run_campaign(s, two);
  ASSERT_TRUE(parallel) << parallel.error();
  EXPECT_EQ(calls, 10U);
  EXPECT_EQ(comparable(*parallel), comparable(*whole)) << "-j 2 gives the report -j 1 gives";

  // Workers of a shard: that shard's report.
  RunOptions shard_by_two;
  shard_by_two.shard = {1, 2};
  shard_by_two.workers = 2;
  const auto both = run_campaign(s, shard_by_two);
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(comparable(*both), comparable(shards[0]));
}

TEST(CampaignSplit, AStopGivesAPartialReport) {
  const Scenario s = real_upload_then_backup(0);
  for (const unsigned workers : {1U, 2U}) {
    RunOptions options;
    options.workers = workers;
    std::atomic<std::uint64_t> seen{0};
    options.on_cut = [&](const CutRecord&, std::uint64_t done, std::uint64_t) { seen = done; };
    options.stop = [&] { return seen.load() >= 3; };
    const auto report = run_campaign(s, options);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->partial());
    EXPECT_GE(report->result.cuts, 3U);
    EXPECT_LE(report->result.cuts, 3U + workers) << "each worker finishes the cut it is in";
    EXPECT_LT(report->result.cuts, report->planned);
    EXPECT_EQ(report->cuts.size(), report->result.cuts);
    EXPECT_EQ(to_json(*report, "r.json")["partial"], true);
    EXPECT_NE(summary(*report).find("interrupted after"), std::string::npos) << summary(*report);
  }
}

// A report of two cuts, one failed with a transcript of every kind of byte.
Report hostile_report() {
  Report r;
  r.scenario = "/tmp/x/<scenario>&.json";
  r.digest = std::string(64, 'a');
  r.profile = "bg95-m3";
  r.seed = 18446744073709551615ULL;
  r.modes = {nand::CutMode::torn_partial};
  r.operations = 10;
  r.planned = 2;
  r.steps = {{"AT+QFUPL=\"a\",3", 1, 6}, {"AT+QPRTPARA=11", 7, 10}};
  r.result.operations = 10;
  r.result.cuts = 2;
  r.result.failed = 1;
  r.result.tally = {{"failed: check 1", 1}, {"old state", 1}};
  CutRecord pass;
  pass.point = {3, nand::CutMode::torn_partial};
  pass.outcome = "old state";
  pass.step = 1;
  CutRecord fail;
  fail.point = {8, nand::CutMode::torn_partial};
  fail.outcome = "failed: check 1";
  fail.failed = true;
  fail.step = 2;
  fail.detail = "AT+QFLST: expected \"OK\", got \"]]></failure><script>alert(1)</script>\"";
  fail.fault = {{"op", "program"}, {"block", 12}, {"page", 3}, {"cut", "torn_partial"}};
  fail.partition = "usrfs";
  fail.transcript = {"> AT+QFUPL=\"a\",3",
                     "< \x01\x02\x1b[31m\x7f bell\a",
                     "< \xff\xfe\xc3 not utf-8",
                     "< \xef\xbf\xbe nonchar",
                     "< & ' \" < >",
                     std::string("< nul\0byte", 10),
                     "-- power cut: program block 12 page 3"};
  r.cuts = {pass, fail};
  r.wear.before = {1, 2, 3, 4};
  r.wear.after = {1, 4, 3, 4};
  return r;
}

// No byte XML 1.0 forbids (controls but TAB, LF), valid UTF-8, no U+FFFE.
void expect_markup_safe(const std::string& text) {
  EXPECT_TRUE(is_valid_utf8(text));
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    ASSERT_TRUE(b >= 0x20 || b == '\n' || b == '\t') << "control byte " << int(b);
    ASSERT_NE(b, 0x7F);
  }
  EXPECT_EQ(text.find("\xef\xbf\xbe"), std::string::npos);
  EXPECT_EQ(text.find("<script>"), std::string::npos);
  EXPECT_EQ(text.find("]]></failure>"), std::string::npos);
}

TEST(CampaignReports, JsonReadsBackAsItWasWritten) {
  const Report r = hostile_report();
  const auto json = to_json(r, "r.json");
  const std::string text = json.dump(2);  // throws on invalid UTF-8
  auto back = report_from_json(nlohmann::json::parse(text));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(to_json(*back, "r.json"), json);
  EXPECT_EQ(back->cuts[1].transcript[2], "< \\xFF\\xFE\\xC3 not utf-8");
  EXPECT_EQ(back->seed, r.seed) << "64-bit seeds survive (a string in the JSON)";

  auto broken = json;
  broken["results"][1].erase("outcome");
  EXPECT_EQ(report_from_json(broken).error(), "results[1].outcome: missing");
  broken = json;
  broken["shard"] = "3/2";
  EXPECT_NE(report_from_json(broken).error().find("shard: expected I/N"), std::string::npos);
  broken = json;
  broken["vmodem_campaign_report"] = 1;
  EXPECT_NE(report_from_json(broken).error().find("reads version 2"), std::string::npos);
}

TEST(CampaignReports, JunitHasATestCasePerCutAndEscapesEverything) {
  const std::string xml = to_junit(hostile_report(), "out/r.json");
  expect_markup_safe(xml);
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = xml.find(what); at != std::string::npos; at = xml.find(what, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("<testcase "), 2U);
  EXPECT_EQ(count("<failure "), 1U);
  EXPECT_EQ(count("</failure>"), 1U);
  EXPECT_NE(xml.find("tests=\"2\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"8@torn_partial (step 2: AT+QPRTPARA=11)\""), std::string::npos);
  EXPECT_NE(xml.find("vmodem campaign replay out/r.json --cut 8@torn_partial"), std::string::npos);
  EXPECT_NE(xml.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(xml.find("&lt; \\x01\\x02\\x1B[31m\\x7F bell\\x07"), std::string::npos) << xml;
  EXPECT_NE(xml.find("nul\\x00byte"), std::string::npos);
  EXPECT_NE(xml.find("&lt; \\xFF\\xFE\\xC3 not utf-8"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"seed\" value=\"18446744073709551615\"/>"),
            std::string::npos);
}

TEST(CampaignReports, HtmlIsSelfContainedAndEscapesEverything) {
  const std::string html = to_html(hostile_report(), "out/r.json");
  expect_markup_safe(html);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(html.find("<script"), std::string::npos) << "no JavaScript";
  EXPECT_EQ(html.find("src="), std::string::npos) << "nothing loaded from elsewhere";
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "no link but the SVG namespace";
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("href=\"#cut-8-torn_partial\""), std::string::npos) << "plot → failure";
  EXPECT_NE(html.find("id=\"cut-8-torn_partial\""), std::string::npos);
  EXPECT_NE(html.find("vmodem campaign replay out/r.json --cut 8@torn_partial"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>usrfs</td><td class=\"n\">1</td></tr>"), std::string::npos)
      << "the failing operations by partition";
  EXPECT_NE(html.find("<tr><td>program</td><td class=\"n\">1</td></tr>"), std::string::npos)
      << "and by kind";
  EXPECT_NE(html.find("<tr><td class=\"n\">1</td><td class=\"n\">2</td><td class=\"n\">4</td>"),
            std::string::npos)
      << "block 1: 2 erases by the action, 4 after";
}

TEST(CampaignReports, MarkupTextKeepsTextAndEscapesTheRest) {
  EXPECT_EQ(markup_text("plain AT+QFLST=\"*\" é"), "plain AT+QFLST=&quot;*&quot; é");
  EXPECT_EQ(markup_text("a\nb\tc"), "a\nb\tc");
  EXPECT_EQ(markup_text("a\nb", true), "a&#10;b");
  EXPECT_EQ(markup_text("\r\x0b\x0c"), "\\x0D\\x0B\\x0C");
  EXPECT_EQ(markup_text("\xef\xbf\xbf"), "\\uFFFF");
  EXPECT_EQ(markup_text("\xc0\xaf"), "\\xC0\\xAF") << "an overlong '/'";
}

// Reports as two shards of one campaign would write them.
std::vector<Report> two_shards() {
  Report a = hostile_report();
  a.shard = {0, 2};
  Report b = a;
  b.shard = {1, 2};
  b.cuts = {b.cuts[0]};
  b.cuts[0].point.operation = 4;
  b.result.cuts = 1;
  b.result.failed = 0;
  b.result.tally = {{"old state", 1}};
  return {a, b};
}

TEST(CampaignMerge, JoinsShardsInThePlansOrder) {
  auto merged = merge(two_shards());
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->shard.count, 1U);
  EXPECT_EQ(merged->result.cuts, 3U);
  EXPECT_EQ(merged->result.failed, 1U);
  EXPECT_EQ(merged->result.count("old state"), 2U);
  ASSERT_EQ(merged->cuts.size(), 3U);
  EXPECT_EQ(merged->cuts[0].point.operation, 3U);
  EXPECT_EQ(merged->cuts[1].point.operation, 4U);
  EXPECT_EQ(merged->cuts[2].point.operation, 8U);
}

TEST(CampaignMerge, RefusesWhatIsNotOneCampaignsShards) {
  auto error_of = [](std::vector<Report> shards) {
    auto merged = merge(std::move(shards));
    return merged ? std::string("merged") : merged.error();
  };
  auto shards = two_shards();
  shards[1].seed = 7;
  EXPECT_EQ(error_of(shards),
            "report 2: not a shard of the same campaign: seed 7, the first report's "
            "18446744073709551615");
  shards = two_shards();
  shards[1].digest = std::string(64, 'b');
  EXPECT_NE(error_of(shards).find("report 2: not a shard of the same campaign: scenario"),
            std::string::npos);
  shards = two_shards();
  shards[1].shard = {1, 3};
  EXPECT_NE(error_of(shards).find("shard 2/3, the first report's 1/2"), std::string::npos)
      << error_of(shards);
  shards = two_shards();
  shards[1].shard = {0, 2};
  EXPECT_EQ(error_of(shards), "report 2: shard 1/2 again (report 1 is that shard too)");
  shards = two_shards();
  shards.pop_back();
  EXPECT_EQ(error_of(shards), "shard 2/2 missing: merge every shard");
  shards = two_shards();
  shards[1].sample = 5;
  EXPECT_NE(error_of(shards).find("sample"), std::string::npos);
  EXPECT_EQ(error_of({}), "no report to merge");
}

}  // namespace
}  // namespace vmodem::sim::campaign
