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
  options.attachment = stored_profile(profile);
  return options;
}

// Why `storage` (an existing image) cannot be run as `profile`; nullopt
// when it can. An image that keeps its profile is checked by layout (a
// profile of another name that lays out the NAND the same way may override
// it); an older image only by the name on its label.
std::optional<std::string> refusal(const nand::Storage& storage, const Profile& profile,
                                   const std::filesystem::path& image) {
  const std::string label = storage.label();
  const auto pass = " Pass --profile " + label + " or use another image.";
  if (const auto stored = storage.attachment(); !stored.empty()) {
    if (auto made_for = load_stored_profile(stored, image.string())) {
      if (auto difference = layout_difference(*made_for, profile)) {
        return image.string() + " was made for profile '" + made_for->name +
               "', which lays out the NAND differently from '" + profile.name +
               "': " + *difference + "." + (label.empty() ? "" : pass);
      }
      // The same layout is not the same module: its firmware and files are
      // another model's.
      if (made_for->identity.model != profile.identity.model && made_for->name != profile.name) {
        return image.string() + " was made for profile '" + made_for->name + "' (a " +
               made_for->identity.model + "); this run asks for '" + profile.name + "' (a " +
               profile.identity.model + ")." + (label.empty() ? "" : pass);
      }
      return std::nullopt;
    }
  }
  if (!label.empty() && label != profile.name) {
    return image.string() + " was made for profile '" + label + "'; this run asks for '" +
           profile.name + "'." + pass;
  }
  return std::nullopt;
}

// The profile name an image's label records ("" if it cannot be read).
std::string made_for_profile(const std::filesystem::path& image) {
  auto storage = nand::Storage::open_image(image, {}, true);
  return storage ? (*storage)->label() : std::string();
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
    if (!storage) {
      auto error = storage.error();
      if (auto made_for = made_for_profile(image); !made_for.empty() && made_for != profile.name) {
        error.detail += " (It was made for profile '" + made_for +
                        "': without --profile, commands use that one.)";
      }
      return failed(error);
    }
    if (auto refused = refusal(**storage, profile, image)) return tl::unexpected(*refused);
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
