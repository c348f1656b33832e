// The power-loss campaign engine and the standard workloads (powerloss.hpp).
#include "powerloss.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

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

std::vector<std::uint64_t> cut_points(std::uint64_t total, std::uint32_t sample,
                                      std::uint64_t seed) {
  std::vector<std::uint64_t> points;
  if (sample == 0 || sample >= total) {
    for (std::uint64_t n = 1; n <= total; ++n)
      points.push_back(n);
    return points;
  }
  nand::Rng rng(seed);
  std::set<std::uint64_t> chosen;
  while (chosen.size() < sample)
    chosen.insert(1 + rng.below(total));
  return {chosen.begin(), chosen.end()};
}

void note(CampaignResult& r, std::string what) {
  if (r.examples.size() < 6) r.examples.push_back(std::move(what));
}

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

CampaignResult run_campaign(const Workload& w, nand::CutMode mode, std::uint32_t sample,
                            std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  CampaignResult result;
  Rig rig(w.blocks, Config{}, nand::ChipConfig{}, w.pages_per_block);
  rig.format();
  Tree initial;
  {
    Runner setup(rig.mount(), {});
    if (w.setup) w.setup(setup);
    initial = setup.confirmed();
    rig.fs.reset();
  }
  rig.storage->snapshot_begin();
  rig.injector->reset_operation_count();
  {
    auto fs = rig.try_mount();
    Runner dry(**fs, initial);
    w.steps(dry);
  }
  result.operations = rig.injector->operation_count();
  for (const std::uint64_t n : cut_points(result.operations, sample, seed)) {
    rig.storage->snapshot_rollback();
    rig.chip->power_up();
    rig.injector->clear_rules();
    rig.injector->reset_operation_count();
    (void)rig.injector->arm_power_cut(n, mode);
    Tree confirmed = initial;
    std::optional<Tree> in_flight;
    bool cut = false;
    {
      auto fs = rig.try_mount();
      if (fs) {
        Runner runner(**fs, initial);
        w.steps(runner);
        cut = runner.cut();
        confirmed = runner.confirmed();
        in_flight = runner.in_flight();
      } else {
        cut = fs.error().code == Errc::power_loss;
      }
    }
    if (!cut) {
      if (std::getenv("VMODEM_DEBUG_CUTS"))
        std::printf("no cut seen at %llu\n", static_cast<unsigned long long>(n));
      continue;
    }
    ++result.cuts;
    rig.chip->power_up();
    rig.injector->clear_rules();
    const std::string where = w.name + " cut@" + std::to_string(n) + ": ";
    auto fs = rig.try_mount();
    if (!fs) {
      if (fs.error().check) {
        ++result.failed_by_probe[fs.error().check->number()];
      } else {
        ++result.other_mount_errors;
      }
      note(result, where + "mount: " + fs.error().message());
      continue;
    }
    ++result.mounts_ok;
    auto tree = snapshot_tree(**fs);
    if (!tree) {
      ++result.read_errors;
      note(result, where + "read back: " + tree.error().message());
      continue;
    }
    if (*tree != confirmed && (!in_flight || *tree != *in_flight)) {
      ++result.lost;
      note(result, where + "tree\n" + describe(*tree) + " expected\n" + describe(confirmed) +
                       (in_flight ? " or\n" + describe(*in_flight) : ""));
    }
    if (auto report = (*fs)->check(); !report.ok()) {
      ++result.check_failures;
      note(result, where + "check: " + report.first()->describe());
      continue;
    }
    if (auto problem = life_after_recovery(rig, std::move(*fs), *tree); !problem.empty()) {
      ++result.failed_after_recovery;
      note(result, where + "after recovery: " + problem);
    }
  }
  rig.storage->snapshot_end();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void print_row(const std::string& workload, nand::CutMode mode, const CampaignResult& r) {
  std::string probes;
  for (const auto& [probe, count] : r.failed_by_probe)
    probes += " p" + std::to_string(probe) + "=" + std::to_string(count);
  std::printf(
      "%-12s %-13s ops %5llu cuts %5llu mounted %5llu failed-check %4llu%s lost %llu "
      "read-err %llu fsck-after %llu renamed-remount %llu  %.2fs\n",
      workload.c_str(), std::string(nand::to_string(mode)).c_str(),
      static_cast<unsigned long long>(r.operations), static_cast<unsigned long long>(r.cuts),
      static_cast<unsigned long long>(r.mounts_ok),
      static_cast<unsigned long long>(r.cuts - r.mounts_ok), probes.c_str(),
      static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.read_errors),
      static_cast<unsigned long long>(r.check_failures),
      static_cast<unsigned long long>(r.failed_after_recovery), r.seconds);
  for (const auto& e : r.examples)
    std::printf("    %s\n", e.c_str());
}

}  // namespace vmodem::fs::testing
