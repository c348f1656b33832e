// The NAND statistics as JSON: one layout for `vmodem ctl stats` (the
// running module) and `vmodem image stats --json` (an image at rest), so a
// script reads both the same way. The fields, documented in README
// ("Control socket" → stats):
//   counters        operation counts since the image was made (reads,
//                   programs, erases, ECC corrections, failures, power cuts,
//                   torn operations, virtual time)
//   partitions[]    per partition: name, first_block, blocks, reads,
//                   programs, erases, factory_bad, grown_bad,
//                   erase_count {min, max, mean}
//   wear_histogram  blocks per erase-count range
//   bad_blocks      {factory, grown}; damaged_pages; unstable_pages
#pragma once

#include <nlohmann/json.hpp>

#include <vmodem/nand/stats.hpp>

namespace vmodem::sim {

nlohmann::json stats_json(const nand::DeviceStats& stats);
nlohmann::json stats_json(const nand::DeviceCounters& counters);

}  // namespace vmodem::sim
