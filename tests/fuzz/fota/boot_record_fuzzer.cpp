// Fuzzes the boot record parser (BootRecord::deserialize) and the firmware
// store over hostile boot records. Each input is parsed as is and sealed
// (valid checksum, so the fields are reached); then both record copies of a
// NAND holding a valid firmware are replaced by input-derived pages, and the
// store must open, load only firmware whose images match their digests, and
// make a committed record the one in force.
//
// Input: byte 0 picks, per copy (bits 0-1, 2-3), raw / sealed / left as
// installed; the rest is split in two at its middle, one body per copy.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "nand_fuzz_fixture.hpp"

namespace vmodem::fota::fuzz {
namespace {

constexpr std::string_view kRecordMagic = "VMBR";

void check_round_trip(const std::optional<BootRecord>& record) {
  if (!record) return;
  auto again = BootRecord::deserialize(record->serialize());
  if (!again || again->generation != record->generation || again->slot != record->slot ||
      again->model != record->model || again->version != record->version ||
      again->installed_by != record->installed_by || again->images.size() != record->images.size())
    __builtin_trap();
}

// The page a copy gets (two bits of the flags byte per copy): 0 raw body,
// 1 sealed body, 2 or 3 untouched.
int copy_mode(std::uint8_t flags, int copy) {
  return std::min((flags >> (2 * copy)) & 3, 2);
}

void exercise_store(TinyNand& nand) {
  auto store = FirmwareStore::open(nand.device(), tiny_layout());
  if (!store) __builtin_trap();  // only power loss may fail the open
  auto loaded = (*store)->load();
  if (loaded) {
    // load() vouches for every image: sizes and digests as the record says.
    const auto& images = loaded->record.images;
    if (images.size() != loaded->bundle.images.size()) __builtin_trap();
    for (std::size_t i = 0; i < images.size(); ++i) {
      const auto& data = loaded->bundle.images[i].data;
      if (data.size() != images[i].size || sha256(data) != images[i].digest) __builtin_trap();
    }
  }
  // Committing a record over whatever is there makes it the one in force
  // (or fails cleanly).
  const BootRecord* keep = (*store)->records().empty() ? nullptr : &(*store)->records().front();
  BootRecord next;
  next.slot = keep ? static_cast<std::uint8_t>(1 - keep->slot) : 0;
  next.model = "FUZZ";
  next.version = "2.0";
  if (!(*store)->commit(next, keep)) return;
  auto reopened = FirmwareStore::open(nand.device(), tiny_layout());
  if (!reopened || (*reopened)->records().empty() ||
      (*reopened)->records().front().version != "2.0")
    __builtin_trap();
}

}  // namespace
}  // namespace vmodem::fota::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vmodem::fota;
  using namespace vmodem::fota::fuzz;
  static TinyNand nand;
  const Bytes input(data, data + size);
  check_round_trip(BootRecord::deserialize(input));
  check_round_trip(BootRecord::deserialize(seal(kRecordMagic, input)));
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  const std::size_t half = (size - 1) / 2;
  const Bytes bodies[2] = {Bytes(data + 1, data + 1 + half), Bytes(data + 1 + half, data + size)};
  nand.reset();
  for (int copy = 0; copy < 2; ++copy) {
    const int mode = copy_mode(flags, copy);
    if (mode == 2) continue;
    const Bytes page = mode == 0 ? bodies[copy] : seal(kRecordMagic, bodies[copy]);
    // Page 0 the record, page 1 the seal (zeros), as write_sealed does.
    nand.write_block(static_cast<std::uint32_t>(copy), {page, Bytes(16, 0)});
  }
  exercise_store(nand);
  return 0;
}
