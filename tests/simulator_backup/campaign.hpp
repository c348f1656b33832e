// Power-cut campaigns over the module's backup and restore (SPEC §4, issue 5):
// a cut at NAND operation k of AT+QPRTPARA=1 / =11, or of the boot that
// restores a file system (forced with =3 / =13, or triggered by a failing
// probe point); then power up, boot exactly as the module does (fs_boot: the
// probe points, the engine's decision, any restore), and verify:
//  * the module reaches APP RDY, the file systems mount and check clean;
//  * the file system holds the old or the new recorded tree (byte for byte), the
//    other one is untouched;
//  * the counters and backup_valid say what happened (real mode: a cut in a
//    backup may leave it invalid; safe mode: the previous one stays valid);
//  * optionally: a forced restore gives back exactly the tree the counters
//    name, and a later backup succeeds.
// Storage snapshots roll the flash back between cuts. No gtest here: the
// benchmark runs the same campaign.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <vmodem/nand/fault.hpp>

#include "module_rig.hpp"

namespace vmodem::sim::testing {

enum class Scenario : std::uint8_t {
  backup,          // cut during =1 / =11
  forced_restore,  // =3 / =13, then a cut during the boot that restores
  probe_restore,   // the file system damaged, a cut during the boot that restores
};
std::string to_string(Scenario scenario);

struct CampaignOptions {
  Side side = Side::modem;
  fs::PowerLossMode mode = fs::PowerLossMode::real;
  Scenario scenario = Scenario::backup;
  nand::CutMode cut = nand::CutMode::torn_random;
  std::uint32_t sample = 0;  // cuts at this many seeded operations; 0 = every operation
  std::uint64_t seed = 1;    // module flash, sample, tearing, second cuts
  // Restore scenarios: this fraction of the cuts gets a second cut, during
  // the boot (restore) that follows (two levels deep).
  double two_deep = 0.0;
  bool full_fsck = true;      // FileSystem::fsck of both partitions (else the mounted check)
  bool verify_other = true;   // the other file system's tree and counters too
  bool check_content = true;  // force a restore and compare with the tree the counters name
  bool backup_after = true;   // and then =1 / =11 must succeed
  // Backup scenario: reach each cut by branching off one uncut =1 / =11 at
  // that operation (nand::FaultInjector::set_branch) instead of replaying
  // the command from the booted state up to it. Same cuts, same flash after
  // each (campaign_test compares the two), without paying for the part of
  // the command before the cut again and again.
  bool branch = true;
  // Per cut: a digest of the flash right after the cut and the outcome, in
  // CampaignResult::per_cut (for comparing ways of getting there).
  bool record_cuts = false;
};

struct CutRecord {
  std::uint64_t flash_digest = 0;  // the scenario's partitions, right after the cut
  std::string outcome;             // the tally label, or the failure
};

struct CampaignResult {
  std::uint64_t operations = 0;  // NAND operations of the uncut run under test
  std::uint64_t cuts = 0;
  std::uint64_t second_cuts = 0;
  std::map<std::string, std::uint64_t> tally;  // outcome -> cuts
  std::uint64_t failed = 0;
  std::vector<std::string> failures;           // the first few, with the cut that replays them
  double seconds = 0;                          // wall clock
  double cpu_seconds = 0;                      // this thread's CPU time (one core)
  int probe = 0;                               // probe_restore: the probe point the damage fails
  std::map<std::uint64_t, CutRecord> per_cut;  // by operation, with record_cuts

  std::string describe(const CampaignOptions& options) const;
};

class Campaign {
 public:
  // Manufactures the module flash, prepares the scenario (old tree backed
  // up, new tree on the file system) and measures the uncut run.
  static tl::expected<std::unique_ptr<Campaign>, std::string> prepare(CampaignOptions options);
  ~Campaign();

  // Cuts at every operation or the seeded sample, through the campaign
  // engine (nand/campaign.hpp): replayed, or branched (options.branch).
  CampaignResult run();
  std::uint64_t operations() const;

 private:
  struct State;
  explicit Campaign(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vmodem::sim::testing
