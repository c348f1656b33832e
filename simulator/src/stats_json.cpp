// The NAND statistics as JSON (stats_json.hpp).
#include "stats_json.hpp"

namespace vmodem::sim {

nlohmann::json stats_json(const nand::DeviceCounters& c) {
  return {{"operations", c.operations},
          {"reads", c.reads},
          {"programs", c.programs},
          {"partial_programs", c.partial_programs},
          {"erases", c.erases},
          {"corrected_reads", c.corrected_reads},
          {"corrected_bits", c.corrected_bits},
          {"uncorrectable_reads", c.uncorrectable_reads},
          {"program_fails", c.program_fails},
          {"erase_fails", c.erase_fails},
          {"order_violations", c.order_violations},
          {"nop_violations", c.nop_violations},
          {"set_bit_violations", c.set_bit_violations},
          {"power_cuts", c.power_cuts},
          {"torn_operations", c.torn_operations},
          {"virtual_time_ns", c.virtual_time_ns}};
}

nlohmann::json stats_json(const nand::DeviceStats& stats) {
  nlohmann::json areas = nlohmann::json::array();
  for (const auto& a : stats.areas) {
    areas.push_back(
        {{"name", a.name},
         {"first_block", a.first_block},
         {"blocks", a.block_count},
         {"reads", a.reads},
         {"programs", a.programs},
         {"erases", a.erases},
         {"factory_bad", a.factory_bad},
         {"grown_bad", a.grown_bad},
         {"erase_count", {{"min", a.min_erase}, {"max", a.max_erase}, {"mean", a.mean_erase}}}});
  }
  nlohmann::json wear = nlohmann::json::array();
  for (const auto& w : stats.wear) {
    wear.push_back({{"erase_count_from", w.erase_count_from},
                    {"erase_count_to", w.erase_count_to},
                    {"blocks", w.blocks}});
  }
  return {{"counters", stats_json(stats.counters)},
          {"partitions", areas},
          {"wear_histogram", wear},
          {"bad_blocks", {{"factory", stats.factory_bad}, {"grown", stats.grown_bad}}},
          {"damaged_pages", stats.damaged_pages},
          {"unstable_pages", stats.unstable_pages}};
}

}  // namespace vmodem::sim
