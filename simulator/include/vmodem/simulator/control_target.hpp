// What the control socket can ask of a running module. The control server
// (src/control/) validates each request against its schema and calls one of
// these; Module implements them. Every call runs on the module's executor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <vmodem/nand/fault.hpp>

namespace vmodem::sim {

// QMP-style error: a small closed set of classes plus a readable text.
struct ControlError {
  std::string error_class;  // "GenericError", "CommandNotFound", "InvalidParameter",
                            // "DeviceNotActive" (module off), "DeviceBusy"
  std::string desc;
};
using ControlResult = tl::expected<nlohmann::json, ControlError>;
// Receives the result of a request that may finish later. Called exactly
// once, on the module's executor (possibly before the call that took it
// returns).
using ControlReply = std::function<void(ControlResult)>;

// Where a power cut strikes.
struct PowerCutRequest {
  enum class When { now, after_operations, partition_operation, random_window };
  When when = When::now;
  std::uint64_t operations = 0;       // after_operations: the Nth NAND operation from now
  std::string partition;              // partition_operation: Nth matching op in this partition
  std::uint8_t op_kinds = 0b111;      // bit (1 << nand::OpKind); for partition_operation
  std::uint64_t window_first = 1;     // random_window: operation in [first, last] from now,
  std::uint64_t window_last = 1000;   //   drawn from `seed`
  std::optional<std::uint64_t> seed;  // random_window: default derived from the run seed
  nand::CutMode mode = nand::CutMode::torn_random;
};

// Damage injected into the flash or a file system.
struct InjectRequest {
  enum class Kind {
    bit_flips,
    uncorrectable,
    unstable,
    bad_block,
    erase_partition,
    corrupt_file,
    rule
  };
  Kind kind = Kind::bit_flips;
  std::string partition;    // all but corrupt_file and rule
  std::uint32_t block = 0;  // logical block in the partition
  std::uint32_t page = 0;
  std::uint32_t bits = 1;  // bit_flips
  std::optional<std::uint32_t> sector;
  std::string file_system;  // corrupt_file: "modem" or "ap"
  std::string path;         // corrupt_file
  nand::FaultRule rule;     // rule: a general fault rule (see nand/fault.hpp)
};

class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  // {"power":"off|booting|rdy|app_rdy|running", "model", "profile", "seed",
  //  "ports":{"at":path,...}, "uptime_ms", "boots", ...}
  virtual ControlResult status() = 0;
  virtual ControlResult power_on() = 0;   // DeviceBusy if not off
  virtual ControlResult power_off() = 0;  // orderly, like AT+QPOWD=1
  virtual ControlResult power_cut(
      const PowerCutRequest& request) = 0;  // {"armed":...} or {"cut":true}
  virtual ControlResult reset() = 0;        // like AT+CFUN=1,1
  virtual ControlResult inject(const InjectRequest& request) = 0;
  virtual ControlResult stats() = 0;  // NAND statistics (vmodem image stats --json) + fs counters
  // The whole NAND to an image file at `path`, and back (module off). The
  // file I/O runs off the executor, so the ports and other connections keep
  // being served meanwhile; `done` gets {"path", "bytes"} or the error:
  // InvalidParameter for a path that is refused (the live image, anything
  // but a regular file or a free name, a NUL byte; for load, a file that is
  // not an image of this module's geometry), GenericError when the disk
  // fails or fills, DeviceBusy for a load while the module is on.
  virtual void snapshot_save(const std::string& path, ControlReply done) = 0;
  virtual void snapshot_load(const std::string& path, ControlReply done) = 0;
  virtual ControlResult backup_info(
      const std::string& file_system) = 0;  // issue 5; may be "not yet"
  // Events: {"event":"POWER_STATE"|"URC"|"RESTORE"|"NAND_FAULT"|..., "data":{...},
  // "timestamp":{"seconds":..,"microseconds":..}}. Returns an id for unsubscribe.
  virtual std::uint64_t subscribe(std::function<void(const nlohmann::json& event)> listener) = 0;
  virtual void unsubscribe(std::uint64_t id) = 0;
};

}  // namespace vmodem::sim
