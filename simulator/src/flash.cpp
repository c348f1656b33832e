#include <random>

#include <vmodem/simulator/flash.hpp>

#include "module/fota_firmware.hpp"

namespace vmodem::sim {

std::uint64_t Seeds::chip() const {
  return nand::Rng::mix(run, 1);
}
std::uint64_t Seeds::faults() const {
  return nand::Rng::mix(run, 2);
}
std::uint64_t Seeds::manufacture() const {
  return nand::Rng::mix(run, 3);
}
std::uint64_t Seeds::network() const {
  return nand::Rng::mix(run, 4);
}

Seeds Seeds::from_entropy() {
  std::random_device device;
  return Seeds{(std::uint64_t{device()} << 32) ^ device()};
}

Flash::Flash(Profile profile, std::unique_ptr<nand::Storage> storage, Seeds seeds, Threads threads)
    : profile_(std::move(profile)),
      storage_(std::move(storage)),
      table_(profile_.partition_table()),
      threads_(threads),
      image_path_(storage_->path()) {
  nand::ChipConfig config = profile_.chip;
  config.seed = seeds.chip();
  chip_ = std::make_unique<nand::SimulatedChip>(*storage_, config);
  injector_ = std::make_unique<nand::FaultInjector>(*chip_, &table_, seeds.faults());
  shared_ = std::make_unique<nand::SharedDevice>(*injector_);
}

tl::expected<void, std::string> Flash::manufacture(Seeds seeds) {
  nand::FactoryBadBlocks spec = profile_.factory_bad;
  spec.seed = seeds.manufacture();
  auto marked = nand::manufacture_bad_blocks(lock().chip(), spec);
  if (!marked) return tl::unexpected("manufacture: " + marked.error().message());
  factory_bad_ = *marked;
  // The production line flashes the factory firmware (slot A, first boot record).
  if (auto ok = install_factory_firmware(profile_, device(), seeds.manufacture()); !ok) {
    return tl::unexpected("manufacture: " + ok.error());
  }
  created_ = true;
  return {};
}

namespace {

// The detail alone reads best ("x.img holds a chip of ..."); the code is a
// fallback for errors without one.
std::string describe(const nand::Error& error) {
  return error.detail.empty() ? error.message() : error.detail;
}

nand::StorageOptions storage_options(const Profile& profile, Seeds seeds) {
  nand::StorageOptions options;
  options.deviation_slots = profile.deviation_slots;
  options.manufacture_seed = seeds.manufacture();
  options.label = profile.name;
  return options;
}

}  // namespace

tl::expected<std::unique_ptr<Flash>, std::string> Flash::open(const Profile& profile,
                                                              const std::filesystem::path& image,
                                                              Mode mode, Seeds seeds,
                                                              bool read_only, nand::Errc* cause) {
  const auto failed = [cause](const nand::Error& error) {
    if (cause) *cause = error.code;
    return tl::unexpected(describe(error));
  };
  std::error_code ec;
  const bool exists = std::filesystem::exists(image, ec);
  if (mode == Mode::open_existing && !exists) {
    return tl::unexpected(image.string() + ": no such image");
  }
  if (mode == Mode::create_new && exists) {
    return tl::unexpected(image.string() + " already exists; remove it first or use another path");
  }
  if (exists) {
    auto storage = nand::Storage::open_image(image, profile.geometry, read_only);
    if (!storage) return failed(storage.error());
    if (!(*storage)->label().empty() && (*storage)->label() != profile.name) {
      return tl::unexpected(image.string() + " was made for profile '" + (*storage)->label() +
                            "'; this run asks for '" + profile.name + "'. Pass --profile " +
                            (*storage)->label() + " or use another image.");
    }
    std::unique_ptr<Flash> flash(new Flash(profile, std::move(*storage), seeds));
    return flash;
  }
  auto storage =
      nand::Storage::create_image(image, profile.geometry, storage_options(profile, seeds));
  if (!storage) return failed(storage.error());
  std::unique_ptr<Flash> flash(new Flash(profile, std::move(*storage), seeds));
  if (auto ok = flash->manufacture(seeds); !ok) {
    flash.reset();
    std::filesystem::remove(image, ec);
    return tl::unexpected(ok.error());
  }
  return flash;
}

tl::expected<std::unique_ptr<Flash>, std::string> Flash::in_memory(const Profile& profile,
                                                                   Seeds seeds, Threads threads) {
  auto storage = nand::Storage::create_in_memory(profile.geometry, storage_options(profile, seeds));
  if (!storage) return tl::unexpected(storage.error().message());
  std::unique_ptr<Flash> flash(new Flash(profile, std::move(*storage), seeds, threads));
  if (auto ok = flash->manufacture(seeds); !ok) return tl::unexpected(ok.error());
  return flash;
}

nand::Result<std::unique_ptr<nand::Partition>> Flash::partition(const std::string& name) {
  const nand::PartitionSpec* spec = table_.find(name);
  if (!spec) {
    std::string known;
    for (const auto& e : table_.entries())
      known += (known.empty() ? "" : ", ") + e.name;
    return nand::fail(
        nand::Errc::invalid_argument, -1, -1,
        "no partition '" + name + "' in profile " + profile_.name + " (has: " + known + ")");
  }
  return nand::Partition::open(device(), *spec);
}

}  // namespace vmodem::sim
