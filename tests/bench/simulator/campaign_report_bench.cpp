// The campaign's reports at CI scale (issue 15: "HTML report of a
// 20,000-cut campaign: size and time to write"): a synthetic report of
// 20,000 cuts (10,000 NAND operations in two cut modes, outcomes spread
// over every class, 1% failed with a 24-line transcript, wear of 2,048
// blocks) written as JSON, JUnit and HTML; each benchmark's `bytes` counter
// is the size of what it wrote. No module runs: this is the writers alone.
#include <benchmark/benchmark.h>

#include "campaign/report.hpp"

namespace {

using namespace vmodem::sim::campaign;

Report synthetic_report() {
  constexpr std::uint64_t kOperations = 10'000;
  const char* outcomes[] = {"old state, ap backup old",
                            "new state, ap backup new",
                            "new state, ap backup invalid (back up again)",
                            "after step 1",
                            "ap recovered by restore",
                            "ap rebuilt from factory"};
  Report r;
  r.scenario = "/work/examples/cert-backup/scenario.json";
  r.digest = std::string(64, 'a');
  r.profile = "bg95-m3";
  r.seed = 15;
  r.modes = {vmodem::nand::CutMode::torn_partial, vmodem::nand::CutMode::torn_unstable};
  r.operations = kOperations;
  r.steps = {{"AT+QFUPL=\"cert.pem\",1273", 1, 4000}, {"AT+QPRTPARA=11", 4001, kOperations}};
  r.result.operations = kOperations;
  for (const auto mode : r.modes) {
    for (std::uint64_t op = 1; op <= kOperations; ++op) {
      CutRecord cut;
      cut.point = {op, mode};
      cut.step = op <= 4000 ? 1 : 2;
      cut.fault = {{"op", "program"}, {"block", op % 2048}, {"page", op % 64}, {"cut", "torn"}};
      cut.partition = "usrfs";
      if (op % 100 == 0) {
        cut.failed = true;
        cut.outcome = "failed: acknowledged files intact";
        cut.detail = "ap: /cert.pem differs";
        for (int line = 0; line < 24; ++line)
          cut.transcript.push_back("urc: +QIND: \"FOTA\",\"UPDATING\"," + std::to_string(line));
        ++r.result.failed;
      } else {
        cut.outcome = outcomes[op % 6];
      }
      ++r.result.tally[cut.outcome];
      r.cuts.push_back(std::move(cut));
    }
  }
  r.planned = r.result.cuts = r.cuts.size();
  r.wear.before.assign(2048, 3);
  r.wear.after = r.wear.before;
  for (std::size_t b = 200; b < 260; ++b)
    r.wear.after[b] += 1;
  return r;
}

const Report& report() {
  static const Report r = synthetic_report();
  return r;
}

void BM_Json(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = to_json(report(), "report.json").dump(2);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["cuts"] = static_cast<double>(report().cuts.size());
}
BENCHMARK(BM_Json)->Unit(benchmark::kMillisecond);

void BM_Junit(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = to_junit(report(), "report.json");
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Junit)->Unit(benchmark::kMillisecond);

void BM_Html(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = to_html(report(), "report.json");
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Html)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
