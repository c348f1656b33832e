// The power-loss campaign engine and the standard workloads (powerloss.hpp).
#include "powerloss.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace vmodem::fs::testing {

bool Runner::write_file(const std::string& path, std::vector<std::uint8_t> data) {
  const bool existed = confirmed_.count(path) != 0;
  Handle h = 0;
  bool opened = false;
  auto open = [&] {
    auto r = fs_.open(path, kWrite | kCreate | kTruncate);
    opened = r.has_value();
    if (r) h = *r;
    return r;
  };
  if (!run(open, [&](Tree& t) {
        if (!existed) t[path] = std::vector<std::uint8_t>{};
      })) {
    return false;
  }
  if (!opened) return true;
  bool wrote = false;
  if (!run(
          [&] {
            auto r = fs_.write(h, data);
            wrote = r.has_value();
            return r;
          },
          [](Tree&) {})) {
    return false;
  }
  if (!wrote) return run([&] { return fs_.close_discard(h); }, [](Tree&) {});
  return run([&] { return fs_.close(h); }, [&](Tree& t) { t[path] = data; });
}

bool Runner::append(const std::string& path, const std::vector<std::uint8_t>& data) {
  Handle h = 0;
  bool opened = false;
  if (!run(
          [&] {
            auto r = fs_.open(path, kWrite | kAppend);
            opened = r.has_value();
            if (r) h = *r;
            return r;
          },
          [](Tree&) {})) {
    return false;
  }
  if (!opened) return true;
  if (!run([&] { return fs_.write(h, data); }, [](Tree&) {})) return false;
  return run([&] { return fs_.close(h); },
             [&](Tree& t) {
               auto& content = *t[path];
               content.insert(content.end(), data.begin(), data.end());
             });
}

bool Runner::mkdir(const std::string& path) {
  return run([&] { return fs_.mkdir(path); }, [&](Tree& t) { t[path] = std::nullopt; });
}

bool Runner::unlink(const std::string& path) {
  return run([&] { return fs_.unlink(path); }, [&](Tree& t) { t.erase(path); });
}

bool Runner::rmdir(const std::string& path) {
  return run([&] { return fs_.rmdir(path); }, [&](Tree& t) { t.erase(path); });
}

bool Runner::rename(const std::string& from, const std::string& to) {
  return run([&] { return fs_.rename(from, to); },
             [&](Tree& t) {
               Tree moved;
               for (auto it = t.begin(); it != t.end();) {
                 if (it->first == from || it->first.rfind(from + "/", 0) == 0) {
                   moved[to + it->first.substr(from.size())] = std::move(it->second);
                   it = t.erase(it);
                 } else {
                   ++it;
                 }
               }
               for (auto& [path, content] : moved)
                 t[path] = std::move(content);
             });
}

bool Runner::write_with_fsync(const std::string& path, const std::vector<std::uint8_t>& data) {
  const bool existed = confirmed_.count(path) != 0;
  Handle h = 0;
  bool opened = false;
  if (!run(
          [&] {
            auto r = fs_.open(path, kWrite | kCreate | kTruncate);
            opened = r.has_value();
            if (r) h = *r;
            return r;
          },
          [&](Tree& t) {
            if (!existed) t[path] = std::vector<std::uint8_t>{};
          })) {
    return false;
  }
  if (!opened) return true;
  const std::size_t half = data.size() / 2;
  const std::vector<std::uint8_t> first(data.begin(), data.begin() + half);
  const std::vector<std::uint8_t> rest(data.begin() + half, data.end());
  if (!run([&] { return fs_.write(h, first); }, [](Tree&) {})) return false;
  if (!run([&] { return fs_.fsync(h); }, [&](Tree& t) { t[path] = first; })) return false;
  if (!run([&] { return fs_.write(h, rest); }, [](Tree&) {})) return false;
  return run([&] { return fs_.close(h); }, [&](Tree& t) { t[path] = data; });
}

namespace {

// A recovered volume must keep working: a second boot shows the same files,
// and the host goes on using them. Every file is renamed (a header at the file's current version,
// written after whatever the recovery mount rolled back) and the volume mounted again: it must pass
// every check and show exactly the renamed tree. The single mount after a cut does not catch a
// rollback the next header trips over; this does. Returns "" or what went wrong.
std::string life_after_recovery(Rig& rig, std::unique_ptr<FileSystem> fs, const Tree& tree) {
  // A second boot with nothing done in between shows the same files: what
  // the recovery decided (a commit kept or rolled back) stays decided.
  fs.reset();
  auto rebooted = rig.try_mount();
  if (!rebooted) return "second mount: " + rebooted.error().message();
  fs = std::move(*rebooted);
  if (auto again = snapshot_tree(*fs); !again || *again != tree) {
    return again
               ? "second mount changed the tree\n" + describe(*again) + " first\n" + describe(tree)
               : "second mount, read back: " + again.error().message();
  }
  Tree expected;
  for (const auto& [path, content] : tree) {
    const std::string to = path + "~";
    const bool renamed = content && !tree.count(to) && fs->rename(path, to).has_value();
    expected[renamed ? to : path] = content;
  }
  fs.reset();
  auto again = rig.try_mount();
  if (!again) return "mount: " + again.error().message();
  if (auto report = (*again)->check(); !report.ok()) return "check: " + report.first()->describe();
  auto seen = snapshot_tree(**again);
  if (!seen) return "read back: " + seen.error().message();
  if (*seen != expected) return "tree\n" + describe(*seen) + " expected\n" + describe(expected);
  return "";
}

}  // namespace

namespace {

// A workload under cuts: the formatted, set-up volume is the rewind point;
// the action mounts it and runs the steps, tracking what the crash semantics
// allow; the verdict mounts again and compares.
class WorkloadCase : public RigCase {
 public:
  WorkloadCase(const Workload& w, Medium medium)
      : RigCase(Rig(w.blocks, Config{}, nand::ChipConfig{}, w.pages_per_block, medium)), w_(w) {
    rig_.format();
    Runner setup(rig_.mount(), {});
    if (w.setup) w.setup(setup);
    initial_ = setup.confirmed();
    start();
  }

  bool act() override {
    confirmed_ = initial_;
    in_flight_.reset();
    auto fs = rig_.try_mount();
    if (!fs) return fs.error().code == Errc::power_loss;
    Runner runner(**fs, initial_);
    w_.steps(runner);
    confirmed_ = runner.confirmed();
    in_flight_ = runner.in_flight();
    return runner.cut();
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint& point) override;

 private:
  const Workload& w_;
  Tree initial_;
  Tree confirmed_;
  std::optional<Tree> in_flight_;
};

nand::campaign::Verdict WorkloadCase::verify(const nand::campaign::CutPoint& point) {
  using nand::campaign::Verdict;
  rig_.chip->power_up();
  rig_.injector->clear_rules();
  const std::string where = w_.name + " cut@" + point.id() + ": ";
  auto fs = rig_.try_mount();
  if (!fs) {
    const auto& check = fs.error().check;
    return Verdict::fail(check ? "mount failed p" + std::to_string(check->number()) : "mount error",
                         where + fs.error().message());
  }
  auto tree = snapshot_tree(**fs);
  if (!tree) return Verdict::fail("read error", where + tree.error().message());
  const bool confirmed = *tree == confirmed_;
  if (!confirmed && (!in_flight_ || *tree != *in_flight_)) {
    return Verdict::fail("lost", where + "tree\n" + describe(*tree) + " expected\n" +
                                     describe(confirmed_) +
                                     (in_flight_ ? " or\n" + describe(*in_flight_) : ""));
  }
  if (auto report = (*fs)->check(); !report.ok())
    return Verdict::fail("check failed", where + report.first()->describe());
  if (auto problem = life_after_recovery(rig_, std::move(*fs), *tree); !problem.empty())
    return Verdict::fail("failed after recovery", where + problem);
  return Verdict::pass(confirmed ? "last acknowledged state" : "operation in flight done");
}

}  // namespace

nand::campaign::Result run_campaign(const Workload& workload, nand::CutMode mode,
                                    std::uint32_t sample, std::uint64_t seed, Medium medium) {
  WorkloadCase c(workload, medium);
  nand::campaign::Plan plan;
  plan.modes = {mode};
  plan.sample = sample;
  plan.seed = seed;
  return nand::campaign::run(c, plan);
}

void print_row(const std::string& workload, nand::CutMode mode, const nand::campaign::Result& r) {
  std::string outcomes;
  for (const auto& [outcome, n] : r.tally)
    outcomes += "  " + outcome + " " + std::to_string(n);
  std::printf("%-12s %-13s ops %5llu cuts %5llu failed %llu%s  %.2fs\n", workload.c_str(),
              std::string(nand::to_string(mode)).c_str(),
              static_cast<unsigned long long>(r.operations),
              static_cast<unsigned long long>(r.cuts), static_cast<unsigned long long>(r.failed),
              outcomes.c_str(), r.seconds);
  for (const auto& f : r.failures)
    std::printf("    %s\n", f.detail.c_str());
}

}  // namespace vmodem::fs::testing
