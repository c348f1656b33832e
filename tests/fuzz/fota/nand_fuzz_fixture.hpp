// A tiny RAM NAND with a firmware layout (two images in A/B slots, the boot
// record partition, a FOTA area) for the boot-record and FOTA-area fuzzers.
// Built once per process and snapshotted; every input starts from the
// rollback with a fresh chip, so runs do not depend on each other.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

namespace vmodem::fota::fuzz {

using Bytes = std::vector<std::uint8_t>;

inline nand::Geometry tiny_geometry() {
  nand::Geometry g;
  g.page_size = 2048;
  g.spare_size = 64;
  g.pages_per_block = 8;
  g.block_count = 24;
  return g;
}

inline FirmwareLayout tiny_layout() {
  FirmwareLayout layout;
  layout.boot_record = {"mibib", 0, 2};
  layout.images = {{"boot", 2, 4}, {"modem", 6, 4}};
  return layout;
}
inline nand::PartitionSpec tiny_fota() {
  return {"fota", 10, 14};
}

// Two small images, so a record naming them can verify.
inline FirmwareBundle tiny_firmware() {
  FirmwareBundle fw;
  fw.model = "FUZZ";
  fw.version = "1.0";
  Bytes boot(5000), modem(9000);
  for (std::size_t i = 0; i < boot.size(); ++i)
    boot[i] = static_cast<std::uint8_t>(i * 31 + 7);
  for (std::size_t i = 0; i < modem.size(); ++i)
    modem[i] = static_cast<std::uint8_t>((i * i) >> 3);
  fw.images.push_back({"boot", std::move(boot)});
  fw.images.push_back({"modem", std::move(modem)});
  return fw;
}

// The record layout of fota/src/nand_records.hpp (magic | u32 length | body |
// first 8 bytes of the SHA-256 of what precedes them), so inputs get past
// the checksum to the parsers behind it.
inline Bytes seal(std::string_view magic, std::span<const std::uint8_t> body) {
  Bytes out(magic.begin(), magic.end());
  const auto n = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), body.begin(), body.end());
  const Digest d = sha256(out);
  out.insert(out.end(), d.begin(), d.begin() + 8);
  return out;
}

class TinyNand {
 public:
  // Factory state: tiny_firmware() installed in slot A, FOTA area erased.
  TinyNand() {
    storage_ = std::move(*nand::Storage::create_in_memory(tiny_geometry()));
    fresh_chip();
    auto store = FirmwareStore::open(*chip_, tiny_layout());
    if (!store || !(*store)->install(tiny_firmware(), nullptr)) __builtin_trap();
    storage_->snapshot_begin();
  }

  // Back to the factory state, with a new chip (same seed).
  nand::Device& reset() {
    storage_->snapshot_rollback();
    fresh_chip();
    return *chip_;
  }
  nand::Device& device() { return *chip_; }

  // Erases `block` and programs `pages` in order (each truncated or padded
  // with 0xFF to a page). Stops at the first refusal.
  void write_block(std::uint32_t block, const std::vector<Bytes>& pages) {
    const auto& g = storage_->geometry();
    if (!chip_->erase(block)) return;
    for (std::uint32_t p = 0; p < pages.size() && p < g.pages_per_block; ++p) {
      Bytes page(g.page_size, 0xFF);
      std::copy_n(pages[p].begin(), std::min<std::size_t>(pages[p].size(), page.size()),
                  page.begin());
      if (!chip_->program({block, p}, page, {})) return;
    }
  }

 private:
  void fresh_chip() {
    nand::ChipConfig config;
    config.seed = 7;
    chip_ = std::make_unique<nand::SimulatedChip>(*storage_, config);
  }

  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
};

}  // namespace vmodem::fota::fuzz
