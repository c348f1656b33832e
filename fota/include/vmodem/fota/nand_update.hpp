// The update a boot runs when the FOTA area holds a complete package
// (SPEC §7): checks, apply into the inactive slot with a journal, read-back
// verification, the boot-record switch, and withdrawing the package.
//
// Events, in order (what the module prints as +QIND: "FOTA",...):
//   start                      a staged package was found
//   restore <pct>              resuming an interrupted update (journal found)
//   updating <pct>             rising, ends with 100 on success
//   end <code>                 0 success, else the SPEC §7 code (the old
//                              firmware stays in force)
// Power safety: the running firmware is never written (A/B, see
// firmware_store.hpp). Every completed block of the target is journaled, so a
// power cut resumes at the last journaled block, rewriting it from its
// erase. The package is withdrawn only after the outcome is durable (the new
// boot record, or nothing changed), so a cut before that makes the next boot
// decide again: a committed package (the record names it and its journal is
// still there) ends with 0, a refused one is refused again. There is never a
// retry loop.
//
// A NAND error while the device is powered (a grown bad block) ends the
// update with 502 and the old firmware; a power cut (kPowerLoss) makes
// step() return the error and leaves everything for the next boot.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/fota_area.hpp>

namespace vmodem::fota {

enum class UpdatePhase { start, restore, updating, end };
std::string_view to_string(UpdatePhase phase);

struct UpdateEvent {
  UpdatePhase phase;
  int value = 0;  // percent, or the end code
};

// The +QIND: "FOTA" URC lines (SPEC §7), formatted in one place for the
// module and the tools: `+QIND: "FOTA","<stage>"` and, with a value,
// `+QIND: "FOTA","<stage>",<value>` (stages START, UPDATING, END, HTTPSTART,
// FTPEND, ...). An update event prints its phase and, but for START, its
// value.
std::string fota_urc(std::string_view stage);
std::string fota_urc(std::string_view stage, int value);
std::string fota_urc(const UpdateEvent& event);

struct UpdateOptions {
  std::function<void(const UpdateEvent&)> on_event;
  // Target pages written per step() (at least one block keeps journal
  // records per block).
  std::uint32_t pages_per_step = 64;
};

struct UpdateOutcome {
  int end_code = 0;
  bool resumed = false;
  std::string source_version, target_version;
  std::string message;  // why, for a non-zero end code
};

class NandUpdate {
 public:
  // nullptr when nothing is staged. Emits `start` and runs the checks: a
  // refused package finishes at once (done() true after the first step()).
  static Result<std::unique_ptr<NandUpdate>> begin(FirmwareStore& store, FotaArea& area,
                                                   UpdateOptions options);
  ~NandUpdate();

  // Advances by at most pages_per_step pages (or one finishing action).
  // true when the update has ended (the `end` event was emitted). An error
  // means the NAND lost power: stop; the next boot continues.
  Result<bool> step();
  // step() until done.
  Status run();
  const UpdateOutcome& outcome() const;

 private:
  struct State;
  explicit NandUpdate(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vmodem::fota
