// The module's flash as one object: image storage, the chip model, the fault
// injector over it, and the profile's partition table. `vmodem run` and the
// offline `vmodem image` tools open a module image the same way.
//
// One owner: the storage, the chip and the injector are reachable only
// through lock() (a nand::SharedDevice's lock, held while the Access lives),
// and every layer above does its NAND operations through device(), which
// takes the same lock for each. The io thread, FUSE threads, the control
// socket and a FOTA download may all use one Flash.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/shared_device.hpp>
#include <vmodem/nand/storage.hpp>
#include <vmodem/simulator/profile.hpp>

namespace vmodem::sim {

// Seeds derived from one run seed, so a single logged number replays a run.
struct Seeds {
  std::uint64_t run;
  std::uint64_t chip() const;         // wear, disturb, tearing, unstable reads
  std::uint64_t faults() const;       // fault-injection probabilities
  std::uint64_t manufacture() const;  // factory bad blocks, factory content
  std::uint64_t network() const;      // the radio link's losses (ctl network)
  static Seeds from_entropy();        // for runs without --seed (the seed is logged)
};

class Flash {
 public:
  enum class Mode { open_existing, create_new, open_or_create };

  // Opens (or creates and manufactures) the image at `image` for `profile`.
  // A created image gets the profile's factory bad blocks. An existing image
  // made for another profile or geometry is refused, untouched. Opened for
  // writing, the image's disk blocks are reserved first (see
  // nand::Storage::create_image). Errors are messages a user can act on;
  // with `cause`, it gets the nand error code behind the message
  // (nand::Errc::no_space: the host's disk cannot hold the image), left
  // alone for errors of other kinds.
  static tl::expected<std::unique_ptr<Flash>, std::string> open(const Profile& profile,
                                                                const std::filesystem::path& image,
                                                                Mode mode, Seeds seeds,
                                                                bool read_only = false,
                                                                nand::Errc* cause = nullptr);
  // Who may use the flash: threads::many, device() is the SharedDevice (a
  // lock per operation). threads::one, device() is the fault injector itself
  // (lock() still serializes the rest): only for a single-threaded campaign
  // that branches inside an operation (nand::FaultInjector::set_branch): the
  // branch reaches the device again from inside the operation.
  enum class Threads { many, one };
  // A RAM-only module flash (tests, benchmarks, campaigns).
  static tl::expected<std::unique_ptr<Flash>, std::string> in_memory(
      const Profile& profile, Seeds seeds, Threads threads = Threads::many);

  // The device every layer above uses: the lock, faults, then the chip.
  nand::Device& device() {
    if (threads_ == Threads::one) return *injector_;
    return *shared_;
  }
  // The storage, chip and injector, with the flash's lock held (see
  // nand::SharedDevice::Access: no device() call while it lives).
  nand::SharedDevice::Access lock() { return shared_->lock(); }
  const nand::Geometry& geometry() const { return shared_->geometry(); }
  // The image file (empty for a RAM-only flash).
  const std::filesystem::path& image_path() const { return image_path_; }
  // The seed the image was manufactured with (factory content derives from it).
  std::uint64_t manufacture_seed() { return lock().storage().manufacture_seed(); }
  const nand::PartitionTable& table() const { return table_; }
  const Profile& profile() const { return profile_; }
  bool created() const { return created_; }
  const std::vector<std::uint32_t>& factory_bad_blocks() const { return factory_bad_; }

  // A view of one partition by name (scans its bad-block markers).
  // Errors: invalid_argument (no such partition), or the scan's (power_loss
  // when a cut struck it).
  nand::Result<std::unique_ptr<nand::Partition>> partition(const std::string& name);

 private:
  Flash(Profile profile, std::unique_ptr<nand::Storage> storage, Seeds seeds,
        Threads threads = Threads::many);
  tl::expected<void, std::string> manufacture(Seeds seeds);

  Profile profile_;
  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
  nand::PartitionTable table_;
  std::unique_ptr<nand::FaultInjector> injector_;
  std::unique_ptr<nand::SharedDevice> shared_;
  Threads threads_;
  std::filesystem::path image_path_;
  std::vector<std::uint32_t> factory_bad_;
  bool created_ = false;
};

}  // namespace vmodem::sim
