// The simulated NAND chip: a Device that enforces flash physics.
//
// Physics enforced on every operation: erased state 0xFF, programs only clear
// bits, pages of a block programmed in ascending order, at most NOP programs
// per page between erases, FAIL status from worn or failed blocks (a failed
// block stays failed), ECC per sector with correction strength t, timing on a
// virtual clock. Power loss: after cut_power() every access fails with
// power_loss until power_up().
//
// The chip holds no RAM state that survives a power cut besides what is in
// Storage; the fault injector (fault.hpp) decides when a cut happens and how
// the operation it interrupts is torn, through the tear_* primitives here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include <vmodem/nand/chip_config.hpp>
#include <vmodem/nand/device.hpp>
#include <vmodem/nand/rng.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::nand {

// How an interrupted operation leaves the cells.
enum class TearMode : std::uint8_t {
  partial,   // program: a random subset of the intended 0-bits; erase: some 0-bits remain
  unstable,  // operation completed but marginal: reads vary from one read to the next
};

class SimulatedChip final : public Device {
 public:
  // `storage` must outlive the chip.
  SimulatedChip(Storage& storage, ChipConfig config);

  const Geometry& geometry() const override { return storage_.geometry(); }
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

  // --- power ---
  bool powered() const { return powered_.load(std::memory_order_relaxed); }
  // Power goes off now: every access fails with power_loss until power_up().
  // Counted in the storage's power_cuts.
  void cut_power();
  // The same, orderly (the firmware shut down first): not a power cut.
  void power_off();
  // Power comes back. Cells keep whatever the cut left in them.
  void power_up();

  // --- torn and failing operations (used by the fault injector) ---
  // Starts the program and loses power part-way: cells are left per `mode`,
  // then power is cut. Returns power_loss, or the refusal the program would
  // have got (the chip checks a command before it starts; power is cut anyway).
  Status program_torn(PageAddr addr, std::span<const std::uint8_t> main,
                      std::span<const std::uint8_t> spare, TearMode mode);
  Status program_partial_torn(PageAddr addr, std::uint32_t column,
                              std::span<const std::uint8_t> bytes, TearMode mode);
  // Starts the erase and loses power part-way (see TearMode); cuts power.
  Status erase_torn(std::uint32_t block, TearMode mode);
  // The program runs but the chip reports FAIL: the page is left partly
  // programmed and the block is failed for good.
  Status program_failing(PageAddr addr, std::span<const std::uint8_t> main,
                         std::span<const std::uint8_t> spare);
  Status program_partial_failing(PageAddr addr, std::uint32_t column,
                                 std::span<const std::uint8_t> bytes);
  // The erase runs but reports FAIL: partly erased, block failed for good.
  Status erase_failing(std::uint32_t block);

  // --- injected damage (persistent until the block is erased) ---
  // Flips `bits` distinct bits of the page, in `sector` or spread at random.
  // Flipped bits count against the ECC of their sector.
  Status inject_bit_flips(PageAddr addr, std::uint32_t bits,
                          std::optional<std::uint32_t> sector = {});
  // Makes the page marginal: later reads vary (see TearMode::unstable).
  Status make_unstable(PageAddr addr);
  // The block's programs and erases report FAIL from now on (a grown bad
  // block the firmware has not noticed yet).
  Status fail_block(std::uint32_t block);

  // --- manufacture ---
  // Marks a block factory-bad: marker in page 0 spare byte 0, program/erase FAIL.
  void manufacture_bad_block(std::uint32_t block);

  // --- timing ---
  // Virtual time spent in operations since the image was created.
  std::chrono::nanoseconds virtual_time() const;
  // With real-time pacing on, each operation finishes its datasheet time
  // after it starts, or after the previous one finishes if that is later
  // (looks like a module); idle time is not banked. Off, the chip runs flat
  // out and only the virtual clock advances. A bare chip sleeps in each
  // operation; a caller that holds a lock around it takes the waits over
  // (SharedDevice: asks pacing_deadline() after the operation and sleeps
  // with its lock released), so a paced chip never stalls other threads.
  void set_real_time_pacing(bool on);
  void leave_pacing_waits_to_caller(bool on) { caller_waits_ = on; }
  bool real_time_pacing() const { return pacing_; }
  // When the operations so far finish in real time, if that is at least a
  // millisecond from now (shorter waits are left to accumulate: a sleep per
  // 25 us read would cost more than the read); nullopt otherwise.
  std::optional<std::chrono::steady_clock::time_point> pacing_deadline() const;

  // --- randomness ---
  // The generator behind tearing, wear failures and read disturb. The fault
  // injector reseeds it at each power cut (so a cut replays alone, whatever
  // ran before); a branch of a run saves and restores it (fault.hpp).
  const Rng& generator() const { return rng_; }
  void set_generator(const Rng& rng) { rng_ = rng; }

  const ChipConfig& config() const { return config_; }
  Storage& storage() { return storage_; }
  const Storage& storage() const { return storage_; }
  std::uint32_t sectors_per_page() const { return sectors_; }

 private:
  struct Request;
  // Byte ranges of the raw page covered by one ECC codeword.
  struct SectorRegion {
    std::uint32_t main_begin = 0;
    std::uint32_t spare_begin = 0, spare_end = 0;
  };
  Status check_program(const Request& request);
  Status run_program(const Request& request);
  Status tear_program(const Request& request, TearMode mode);
  Status fail_program(const Request& request);
  Status check_erase(std::uint32_t block);
  void apply_program(const Request& request);
  void apply_torn_program(const Request& request, double programmed_fraction);
  void finish_program(const Request& request);
  void apply_erase(std::uint32_t block);
  void apply_torn_erase(std::uint32_t block, double kept_fraction);
  void disturb_earlier_pages(PageAddr addr);
  Result<ReadInfo> decode(PageAddr addr, std::span<std::uint8_t> main,
                          std::span<std::uint8_t> spare);
  SectorRegion sector_region(std::uint32_t sector) const;
  void unstable_read_noise(PageAddr addr, std::uint32_t read_number, std::uint8_t* noise) const;
  void flip_random_bits(std::uint8_t* bits, std::uint32_t count, std::int64_t sector,
                        Rng& rng) const;
  void maybe_wear_and_disturb(PageAddr addr);
  bool wear_failure(std::uint32_t block);
  void spend(std::uint64_t ns);
  Status power_loss_error(std::int64_t block = -1, std::int64_t page = -1) const;
  Status start_read(PageAddr addr, bool sizes_ok, std::size_t bytes_moved);
  bool reads_clean(PageAddr addr) const;
  Status refuse(Errc code, PageAddr addr, std::uint64_t DeviceCounters::*counter);

  Storage& storage_;
  ChipConfig config_;
  Rng rng_;
  std::uint32_t sectors_;
  std::uint32_t sector_spare_;
  // Read by threads that only ask (the module polls it); switched under the
  // SharedDevice's lock when the flash is shared (shared_device.hpp).
  std::atomic<bool> powered_{true};
  bool pacing_ = false;
  bool caller_waits_ = false;
  std::chrono::steady_clock::time_point paced_until_{};
};

}  // namespace vmodem::nand
