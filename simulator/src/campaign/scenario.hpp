// A power-cut campaign over a user's own flow, as written in a scenario file
// (JSON; README "Power-cut campaigns over your own flow" has the schema):
// the module to start from, the AT steps that set it up, the AT steps of the
// action under test, where to cut, and what must hold after power-up.
//
// Loading is strict and names what is wrong: the file, the field (as a path:
// "action[1].timeout_ms") and what was expected. Data files named by a step
// are read at load, relative to the scenario's directory, so a loaded
// Scenario is self-contained.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/nand/fault.hpp>

namespace vmodem::sim::campaign {

// One thing the host does on the AT port.
struct AtStep {
  enum class Kind : std::uint8_t {
    command,   // send a command line, wait for its final result, check it
    wait_urc,  // wait until the module sends the URC line `urc`
    host,      // run the host program `run`: it drives the module's real PTY
  };
  Kind kind = Kind::command;
  // The command line, without the CR; "{size}" in it is replaced at load by
  // the length of the step's data.
  std::string send;
  // A line the answer must hold (the final result code usually: "OK",
  // "+CME ERROR: 409", "+QFUPL: 12,3a").
  std::string expect = "OK";
  // Bytes sent once the module asks for data (CONNECT or the "> " prompt):
  // from "data" (inline text) or "data_file" (read at load).
  std::optional<std::string> data;
  std::string urc;                  // wait_urc
  std::uint32_t timeout_ms = 5000;  // for the final result, the URC, or the program's exit
  // host: a shell command line (/bin/sh -c), run in `dir` (the scenario's
  // directory) with VMODEM_AT_PORT, VMODEM_CTL and VMODEM_STATE in its
  // environment; it succeeds when it exits 0, and is killed (its process
  // group) when the power goes or at its timeout.
  std::string run;
  std::filesystem::path dir;

  // What the transcript and reports call it: the command line, "wait
  // <urc>" or "run <command>".
  std::string label() const;
};

// Which NAND operations of the action are cut, and how.
struct CutSpec {
  std::vector<nand::CutMode> modes{nand::CutMode::torn_partial};
  std::uint32_t sample = 0;             // this many operations drawn from the seed; 0 = every one
  std::uint64_t first = 1;              // the window, 1-based over the action's operations
  std::uint64_t last = 0;               // 0 = the action's last
  std::vector<std::string> partitions;  // only operations in these partitions (empty: all)
  std::uint8_t kinds = 0b111;           // only these kinds: bit (1 << nand::OpKind)
  // Second cuts during each cut's recovery boot ("recovery"): this many of
  // the boot's operations drawn from the seed (0 = none), in these modes.
  std::uint32_t recovery_sample = 0;
  std::vector<nand::CutMode> recovery_modes{nand::CutMode::torn_partial};
  std::uint8_t recovery_kinds = 0b111;  // of the boot's operations, as `kinds`
};

struct Scenario {
  std::filesystem::path file;       // where it was loaded from (reports name it)
  std::string profile = "bg95-m3";  // a built-in name or a profile file
  // Start from this NAND image instead of a freshly manufactured module
  // ("image", or "state": a `vmodem run` state directory's nand.img).
  std::filesystem::path image;
  // The profile's backup.power_loss_mode, overridden ("real" or "safe").
  std::optional<bool> safe_power_loss;
  std::uint64_t seed = 1;
  std::vector<AtStep> setup;   // run once; the flash is kept after it
  std::vector<AtStep> action;  // cut at its NAND operations
  std::vector<AtStep> checks;  // the user's own checks after each power-up
  CutSpec cuts;
  // SHA-256 (lower-case hex) of the file's text and of the data its steps
  // read: the reports of one scenario's shards carry the same digest, so
  // `campaign merge` can refuse reports of different scenarios wherever
  // each shard ran (the image a scenario starts from is not in it).
  std::string digest;
};

// Whether a step of the setup, the action or the checks runs a host program
// (such a campaign runs its module with real PTYs and replays every cut).
bool has_host_steps(const Scenario& scenario);

struct ScenarioError {
  std::string file;
  std::string field;  // empty: the file as a whole (unreadable, not JSON)
  std::string message;
  // "FILE: FIELD: MESSAGE".
  std::string describe() const;
};

// The checks a scenario needs its profile for: the profile loads (field
// "profile"), and each partition `cuts.partitions` names is in its table
// ("cuts.partitions[1]: expected a partition of bg95-m3 (sbl, ...), got
// \"usrf\"": a typo would otherwise cut nothing). run_campaign() calls it;
// the CLI calls it first, to tell a malformed scenario from a campaign
// that cannot run.
std::optional<ScenarioError> check_with_profile(const Scenario& scenario);

// Reads and checks the scenario at `file`.
tl::expected<Scenario, ScenarioError> load_scenario(const std::filesystem::path& file);
// The same from text; data files are read relative to `file`'s directory.
tl::expected<Scenario, ScenarioError> parse_scenario(std::string_view text,
                                                     const std::filesystem::path& file);

}  // namespace vmodem::sim::campaign
