// The one owner of a flash that several threads reach.
//
// A running module's flash is used by its io thread (AT commands, boot), its
// FUSE threads, the control socket (rules, damage, statistics, snapshots)
// and a FOTA download. SharedDevice owns the lock for all of them: the fault
// injector, the chip under it and the chip's storage are reachable only
// through it, as a Device (each operation under the lock) or through lock()
// (anything else, for as long as the Access lives). ctl inject therefore
// takes the same path as a fault rule: FaultInjector::damage under the lock.
//
// Real-time pacing: each operation runs under the lock; its datasheet time is
// waited out after the lock is released, so a paced chip never stalls another
// thread. The chip paces each operation from when it starts: time the flash
// sat idle is not credit for the next operations.
#pragma once

#include <vmodem/nand/device.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/thread_safety.hpp>

namespace vmodem::nand {

class SharedDevice final : public Device {
 public:
  // `faults` (and the chip under it) must outlive the SharedDevice, and are
  // from now on used only through it. Takes the chip's pacing waits over.
  explicit SharedDevice(FaultInjector& faults);

  // No lock: the geometry never changes.
  const Geometry& geometry() const override { return geometry_; }
  Result<ReadInfo> read(PageAddr addr, std::span<std::uint8_t> main,
                        std::span<std::uint8_t> spare) override;
  Result<ReadInfo> read_column(PageAddr addr, std::uint32_t column,
                               std::span<std::uint8_t> out) override;
  Status program(PageAddr addr, std::span<const std::uint8_t> main,
                 std::span<const std::uint8_t> spare) override;
  Status program_partial(PageAddr addr, std::uint32_t column,
                         std::span<const std::uint8_t> bytes) override;
  Status erase(std::uint32_t block) override;
  Result<bool> is_bad(std::uint32_t block) override;
  Status mark_bad(std::uint32_t block) override;

  // Everything behind the device, with the lock held until the Access is
  // destroyed. Keep it to one statement or a short block: a Device call
  // from the same thread meanwhile would wait for ever (the lock is not
  // recursive), and so does every other thread.
  class Access {
   public:
    Access(const Access&) = delete;
    Access& operator=(const Access&) = delete;
    FaultInjector& faults() { return faults_; }
    SimulatedChip& chip() { return faults_.chip(); }
    Storage& storage() { return faults_.chip().storage(); }

   private:
    friend class SharedDevice;
    Access(Mutex& mutex, FaultInjector* faults) : lock_(mutex), faults_(*faults) {}
    MutexLock lock_;
    FaultInjector& faults_;
  };
  Access lock() VMODEM_EXCLUDES(mutex_);

 private:
  // Runs `run` under the lock, then waits out the chip's pacing without it.
  template <typename Run>
  auto paced(Run run) VMODEM_EXCLUDES(mutex_);

  Geometry geometry_;
  Mutex mutex_;
  FaultInjector* const faults_ VMODEM_PT_GUARDED_BY(mutex_);
};

}  // namespace vmodem::nand
