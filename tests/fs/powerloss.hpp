// Power-loss campaign engine: a workload of file-system operations is run
// with a power cut armed at NAND operation n (n = 1..N, or a seeded sample),
// in one cut mode; after each cut the chip is powered up, the file system
// mounted, and its tree compared with what the crash semantics allow: the
// state after the last operation that returned success, or the state the
// operation in flight would have produced; then every file is renamed and
// the volume mounted once more (a recovered volume must keep working).
// Storage snapshots make each run
// start from the same image in O(blocks touched).
#pragma once

#include <functional>
#include <map>
#include <string>

#include <vmodem/nand/campaign.hpp>

#include "fs_fixture.hpp"
#include "tree_model.hpp"

namespace vmodem::fs::testing {

// Runs operations and tracks the model: `confirmed` is the tree after the
// last operation that succeeded; `in_flight` what the one cut by the power
// loss would have produced.
class Runner {
 public:
  explicit Runner(FileSystem& fs, Tree initial) : fs_(fs), confirmed_(std::move(initial)) {}

  // Runs `op`; `apply` describes its effect on the tree if it takes effect.
  // Returns false once power is lost (the workload must stop).
  template <class Op, class Apply>
  bool run(Op&& op, Apply&& apply) {
    if (cut_) return false;
    Tree candidate = confirmed_;
    apply(candidate);
    auto result = op();
    if (result) {
      confirmed_ = std::move(candidate);
      return true;
    }
    if (result.error().code == Errc::power_loss) {
      in_flight_ = std::move(candidate);
      cut_ = true;
      return false;
    }
    return true;  // refused (e.g. no_space): nothing changed
  }

  // Whole-file replace through a handle: create is durable at open, content
  // at close.
  bool write_file(const std::string& path, std::vector<std::uint8_t> data);
  bool append(const std::string& path, const std::vector<std::uint8_t>& data);
  bool mkdir(const std::string& path);
  bool unlink(const std::string& path);
  bool rmdir(const std::string& path);
  bool rename(const std::string& from, const std::string& to);
  // open, write part, fsync, write the rest, close.
  bool write_with_fsync(const std::string& path, const std::vector<std::uint8_t>& data);

  FileSystem& fs() { return fs_; }
  const Tree& confirmed() const { return confirmed_; }
  const std::optional<Tree>& in_flight() const { return in_flight_; }
  bool cut() const { return cut_; }

 private:
  FileSystem& fs_;
  Tree confirmed_;
  std::optional<Tree> in_flight_;
  bool cut_ = false;
};

struct Workload {
  std::string name;
  std::uint32_t blocks = 16;
  std::uint32_t pages_per_block = 64;
  // Runs once before the snapshot (no cuts).
  std::function<void(Runner&)> setup;
  // The operations under test.
  std::function<void(Runner&)> steps;
};

// A campaign case over a Rig: the subclass formats and sets the volume up,
// then calls start(); every rewind goes back to that flash.
class RigCase : public nand::campaign::InjectorCase {
 public:
  explicit RigCase(Rig&& rig) : rig_(std::move(rig)) {}
  ~RigCase() override { rig_.storage->snapshot_end(); }
  nand::FaultInjector& injector() override { return *rig_.injector; }
  void rewind() override {
    rig_.storage->snapshot_rollback();
    rig_.chip->power_up();
    rig_.injector->clear_rules();
    rig_.injector->reset_operation_count();
  }

 protected:
  // Unmounts (RAM state goes) and makes the flash as it is the start point.
  void start() {
    rig_.fs.reset();
    rig_.volume.reset();
    rig_.ubi.reset();
    rig_.storage->snapshot_begin();
  }
  Rig rig_;
};

// Cuts at operations 1..N when `sample` is 0, else at `sample` operations
// drawn from `seed` (nand/campaign.hpp). Outcomes: "last acknowledged state",
// "operation in flight done"; failures: "mount failed pN", "mount error",
// "read error", "lost" (neither state), "check failed", "failed after
// recovery" (renaming every file after the recovery, the next mount failed or
// lost something).
nand::campaign::Result run_campaign(const Workload& workload, nand::CutMode mode,
                                    std::uint32_t sample, std::uint64_t seed,
                                    Medium medium = Medium::raw_nand);

std::vector<Workload> standard_workloads();

// Prints one line per (workload, mode) and the totals.
void print_row(const std::string& workload, nand::CutMode mode, const nand::campaign::Result& r);

}  // namespace vmodem::fs::testing
