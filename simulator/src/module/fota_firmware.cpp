#include "module/fota_firmware.hpp"

#include <random>

#include <vmodem/nand/rng.hpp>

namespace vmodem::sim {

tl::expected<fota::FirmwareLayout, std::string> firmware_layout(const Profile& profile) {
  fota::FirmwareLayout layout;
  for (const auto& entry : profile.partitions) {
    if (entry.role == PartitionRole::firmware) layout.images.push_back(entry.spec);
  }
  if (layout.images.empty()) {
    return tl::unexpected("profile " + profile.name + " has no firmware partitions");
  }
  const PartitionEntry* record = profile.find(kBootRecordPartition);
  if (!record) {
    return tl::unexpected("profile " + profile.name + " has no '" +
                          std::string(kBootRecordPartition) + "' partition for the boot record");
  }
  layout.boot_record = record->spec;
  return layout;
}

tl::expected<nand::PartitionSpec, std::string> fota_partition(const Profile& profile) {
  const PartitionEntry* entry = profile.find_role(PartitionRole::fota);
  if (!entry) return tl::unexpected("profile " + profile.name + " has no fota partition");
  return entry->spec;
}

namespace {

// Small, so every profile manufactures in milliseconds; not page-aligned, so
// the tail handling is exercised.
std::size_t synthetic_size(const std::string& name) {
  if (name == "tz") return 24 * 1024 + 123;
  if (name == "rpm") return 12 * 1024 + 45;
  if (name == "aboot") return 20 * 1024 + 67;
  if (name == "boot") return 64 * 1024 + 89;
  if (name == "modem") return 128 * 1024 + 1;
  return 16 * 1024 + 7;
}

// Firmware-like bytes: runs of repeated words among random ones, so deltas
// between two synthetic firmwares behave like real ones rather than noise.
std::vector<std::uint8_t> synthetic_image(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> data(size);
  for (std::size_t i = 0; i < size;) {
    const std::uint64_t word = rng();
    const std::size_t run = (word & 3) == 0 ? 1 + (word >> 60) : 1;
    for (std::size_t r = 0; r < run && i < size; ++r) {
      for (int b = 0; b < 8 && i < size; ++b, ++i)
        data[i] = static_cast<std::uint8_t>(word >> (8 * b));
    }
  }
  return data;
}

}  // namespace

tl::expected<fota::FirmwareBundle, std::string> factory_firmware(const Profile& profile,
                                                                 std::uint64_t manufacture_seed) {
  if (!profile.firmware.manifest.empty()) {
    auto bundle = fota::load_bundle(profile.firmware.manifest);
    if (!bundle) {
      return tl::unexpected("firmware manifest " + profile.firmware.manifest + ": " +
                            bundle.error().message);
    }
    return std::move(*bundle);
  }
  auto layout = firmware_layout(profile);
  if (!layout) return tl::unexpected(layout.error());
  fota::FirmwareBundle bundle;
  bundle.model = profile.identity.model;
  bundle.version = profile.identity.revision;
  std::uint64_t index = 0;
  for (const auto& spec : layout->images) {
    bundle.images.push_back(
        {spec.name, synthetic_image(synthetic_size(spec.name),
                                    nand::Rng::mix(manufacture_seed, 0xF1F0 + index++))});
  }
  return bundle;
}

tl::expected<void, std::string> install_factory_firmware(const Profile& profile,
                                                         nand::Device& device,
                                                         std::uint64_t manufacture_seed) {
  auto layout = firmware_layout(profile);
  if (!layout) return {};  // a profile without firmware partitions has nothing to install
  auto bundle = factory_firmware(profile, manufacture_seed);
  if (!bundle) return tl::unexpected(bundle.error());
  auto store = fota::FirmwareStore::open(device, *layout);
  if (!store) return tl::unexpected("firmware store: " + store.error().message);
  const fota::BootRecord* running =
      (*store)->records().empty() ? nullptr : &(*store)->records().front();
  if (auto ok = (*store)->install(*bundle, running); !ok) {
    return tl::unexpected("installing the factory firmware: " + ok.error().message);
  }
  return {};
}

}  // namespace vmodem::sim
