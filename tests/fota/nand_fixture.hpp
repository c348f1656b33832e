// A small NAND with a firmware layout (two image partitions split into A/B
// slots, a boot-record partition, a FOTA area) and synthetic firmware
// versions, for the store, staging and boot-time update tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/fota_area.hpp>
#include <vmodem/fota/nand_update.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/storage.hpp>

#include "test_support.hpp"

namespace vmodem::fota::testing {

inline nand::Geometry small_geometry() {
  nand::Geometry g;
  g.page_size = 2048;
  g.spare_size = 64;
  g.pages_per_block = 16;  // 32 KiB blocks: several journal records per image
  g.block_count = 96;
  return g;
}

inline FirmwareLayout small_layout() {
  FirmwareLayout layout;
  layout.boot_record = {"mibib", 2, 2};
  layout.images = {{"boot", 8, 8}, {"modem", 16, 16}};
  return layout;
}
inline nand::PartitionSpec small_fota() {
  return {"fota", 40, 40};
}

// Version `n` of a two-image firmware: each version edits, inserts and
// drops bytes of the previous one, as a real release does.
inline FirmwareBundle synthetic_firmware(int n, std::string model = "TEST-MODEL") {
  Bytes boot = random_bytes(20 * 1024 + 300, 7);
  Bytes modem = random_bytes(60 * 1024 + 77, 8);
  for (int v = 1; v < n; ++v) {
    const Bytes patch = random_bytes(700, 100 + static_cast<std::uint32_t>(v));
    modem.insert(modem.begin() + 1000 * v, patch.begin(), patch.end());
    for (std::size_t i = 0; i < boot.size(); i += 997)
      boot[i] = static_cast<std::uint8_t>(boot[i] + v);
  }
  FirmwareBundle b;
  b.model = std::move(model);
  b.version = "V" + std::to_string(n) + ".0";
  b.images.push_back({"boot", std::move(boot)});
  b.images.push_back({"modem", std::move(modem)});
  return b;
}

class NandFixture {
 public:
  NandFixture() {
    storage_ = std::move(*nand::Storage::create_in_memory(small_geometry()));
    nand::ChipConfig config;
    config.seed = 11;
    chip_ = std::make_unique<nand::SimulatedChip>(*storage_, config);
    injector_ = std::make_unique<nand::FaultInjector>(*chip_, nullptr, 12);
  }

  nand::Storage& storage() { return *storage_; }
  nand::SimulatedChip& chip() { return *chip_; }
  nand::FaultInjector& injector() { return *injector_; }

  // `quiet`: a failure is expected (a power cut during the open).
  std::unique_ptr<FirmwareStore> store(bool quiet = false) {
    auto s = FirmwareStore::open(*injector_, small_layout());
    if (!quiet) {
      EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    }
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<FotaArea> area(bool quiet = false) {
    auto a = FotaArea::open(*injector_, small_fota());
    if (!quiet) {
      EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().message);
    }
    return a ? std::move(*a) : nullptr;
  }

  void install(const FirmwareBundle& fw) {
    auto s = store();
    const BootRecord* running = s->records().empty() ? nullptr : &s->records().front();
    auto ok = s->install(fw, running);
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
  }
  void stage(const Bytes& package) {
    auto ok = area()->stage(package);
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
  }

  // One boot's update: the events it printed ("START", "UPDATING 5", ...),
  // or "(none)" when nothing was staged. Stops at a power cut.
  struct Boot {
    std::vector<std::string> events;
    bool cut = false;
    int end_code = -1;
  };
  Boot boot_update() {
    Boot boot;
    auto s = store(true);
    auto a = s ? area(true) : nullptr;
    if (!s || !a) {
      boot.cut = !chip_->powered();
      return boot;
    }
    UpdateOptions options;
    options.on_event = [&](const UpdateEvent& e) {
      boot.events.push_back(std::string(to_string(e.phase)) +
                            (e.phase == UpdatePhase::start ? "" : " " + std::to_string(e.value)));
      if (e.phase == UpdatePhase::end) boot.end_code = e.value;
    };
    auto update = NandUpdate::begin(*s, *a, options);
    if (!update) {
      boot.cut = true;
      return boot;
    }
    if (!*update) {
      boot.events.push_back("(none)");
      return boot;
    }
    if (auto ok = (*update)->run(); !ok) boot.cut = true;
    return boot;
  }

  // The firmware a boot would run (verified), or an error message.
  tl::expected<LoadedFirmware, std::string> running() {
    auto s = store();
    if (!s) return tl::unexpected(std::string("store does not open"));
    auto loaded = s->load();
    if (!loaded) return tl::unexpected(loaded.error().message);
    return std::move(*loaded);
  }

 private:
  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
  std::unique_ptr<nand::FaultInjector> injector_;
};

inline bool same_images(const FirmwareBundle& a, const FirmwareBundle& b) {
  if (a.images.size() != b.images.size() || a.version != b.version) return false;
  for (const auto& image : a.images) {
    const auto* other = b.find(image.name);
    if (!other || other->data != image.data) return false;
  }
  return true;
}

}  // namespace vmodem::fota::testing
