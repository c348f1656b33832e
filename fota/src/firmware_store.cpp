#include <algorithm>
#include <limits>

#include <vmodem/fota/firmware_store.hpp>

#include "byte_io.hpp"
#include "nand_records.hpp"

namespace vmodem::fota {

namespace {

constexpr std::string_view kRecordMagic = "VMBR";

void put_string(detail::Bytes& out, const std::string& s) {
  detail::put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

std::string get_string(detail::Reader& r) {
  const std::uint16_t n = r.u16();
  if (n > kMaxStringBytes) return r.string(r.remaining() + 1);  // fails the reader
  return r.string(n);
}

void copy_digest(ByteView from, Digest& to) {
  if (from.size() == to.size()) std::copy(from.begin(), from.end(), to.begin());
}

// Writes one image page by page into a slot partition.
class SlotSink final : public TargetSink {
 public:
  SlotSink(FirmwareStore& store, int slot, std::function<nand::Partition*(std::string_view)> find)
      : store_(store), slot_(slot), find_(std::move(find)) {}

  Status begin_image(std::size_t, const PackageImage& image, std::uint64_t) override {
    target_ = nullptr;
    if (!image.has_target) return {};
    target_ = find_(image.name);
    if (!target_) return fail(ErrorCode::kFirmwareMismatch, "no partition for image " + image.name);
    if (image.target_size > store_.capacity(image.name, slot_)) {
      return fail(ErrorCode::kNoSpace, "image " + image.name + " does not fit its slot");
    }
    return {};
  }

  Status write(std::uint64_t offset, ByteView chunk) override {
    if (!target_) return fail(ErrorCode::kAborted, "write outside an image");
    const auto& g = target_->geometry();
    if (offset % g.page_size != 0 || chunk.size() > g.page_size) {
      return fail(ErrorCode::kAborted, "slot writes must be whole pages");
    }
    const std::uint64_t page = offset / g.page_size;
    const nand::PageAddr addr{static_cast<std::uint32_t>(page / g.pages_per_block),
                              static_cast<std::uint32_t>(page % g.pages_per_block)};
    if (addr.page == 0) {
      // First page of a block: erase it, also when resuming (the block may
      // hold a torn page from the interrupted run).
      if (auto st = target_->erase(addr.block); !st) {
        if (st.error().code == nand::Errc::erase_fail) (void)target_->mark_bad(addr.block);
        return detail::nand_failure("erasing firmware slot", st.error());
      }
    }
    if (auto st = detail::program_page(*target_, addr, chunk, "writing firmware slot"); !st) {
      return st;
    }
    return {};
  }

  Status end_image(std::size_t, const PackageImage&) override { return {}; }

 private:
  FirmwareStore& store_;
  int slot_;
  std::function<nand::Partition*(std::string_view)> find_;
  nand::Partition* target_ = nullptr;
};

}  // namespace

Digest BootRecord::firmware_digest() const {
  return fota::firmware_digest(images);
}

std::vector<std::uint8_t> BootRecord::serialize() const {
  detail::Bytes body;
  detail::put_u16(body, kVersion);
  detail::put_u64(body, generation);
  detail::put_u8(body, slot);
  put_string(body, model);
  put_string(body, version);
  detail::put_bytes(body, installed_by);
  detail::put_u16(body, static_cast<std::uint16_t>(images.size()));
  for (const auto& image : images) {
    put_string(body, image.name);
    detail::put_u64(body, image.size);
    detail::put_bytes(body, image.digest);
  }
  return detail::seal_record(kRecordMagic, body);
}

std::optional<BootRecord> BootRecord::deserialize(ByteView page) {
  auto body = detail::open_record(kRecordMagic, page);
  if (!body) return std::nullopt;
  detail::Reader r(*body);
  BootRecord record;
  if (r.u16() != kVersion) return std::nullopt;
  record.generation = r.u64();
  record.slot = r.u8();
  record.model = get_string(r);
  record.version = get_string(r);
  copy_digest(r.bytes(32), record.installed_by);
  const std::uint16_t count = r.u16();
  if (count > kMaxImages) return std::nullopt;
  for (std::uint16_t i = 0; i < count && r.ok(); ++i) {
    ImageIdentity image;
    image.name = get_string(r);
    image.size = r.u64();
    copy_digest(r.bytes(32), image.digest);
    record.images.push_back(std::move(image));
  }
  if (!r.ok() || record.slot > 1) return std::nullopt;
  return record;
}

FirmwareStore::FirmwareStore(nand::Device& device, FirmwareLayout layout)
    : device_(device), layout_(std::move(layout)) {}
FirmwareStore::~FirmwareStore() = default;

Result<std::unique_ptr<FirmwareStore>> FirmwareStore::open(nand::Device& device,
                                                           FirmwareLayout layout) {
  std::unique_ptr<FirmwareStore> store(new FirmwareStore(device, std::move(layout)));
  auto records = nand::Partition::open(device, store->layout_.boot_record);
  if (!records) return detail::nand_failure("boot record partition", records.error());
  if ((*records)->geometry().block_count < 2) {
    return fail(ErrorCode::kInvalidInput, "the boot record partition needs two good blocks");
  }
  store->record_partition_ = std::move(*records);
  for (const auto& spec : store->layout_.images) {
    if (spec.block_count < 2) {
      return fail(ErrorCode::kInvalidInput,
                  "firmware partition " + spec.name + " is too small for two slots");
    }
    const std::uint32_t half = spec.block_count / 2;
    std::array<std::unique_ptr<nand::Partition>, 2> pair;
    for (int s = 0; s < 2; ++s) {
      const nand::PartitionSpec part{spec.name + (s == 0 ? ".a" : ".b"),
                                     spec.first_block + static_cast<std::uint32_t>(s) * half, half};
      auto opened = nand::Partition::open(device, part);
      if (!opened) return detail::nand_failure("firmware slot " + part.name, opened.error());
      pair[static_cast<std::size_t>(s)] = std::move(*opened);
    }
    store->slots_.push_back(std::move(pair));
  }
  if (auto st = store->reload_records(); !st) return tl::unexpected(st.error());
  return store;
}

Status FirmwareStore::reload_records() {
  records_.clear();
  for (std::uint32_t copy = 0; copy < 2; ++copy) {
    auto page = detail::read_sealed(*record_partition_, copy);
    if (!page) return tl::unexpected(page.error());
    if (!*page) continue;
    if (auto record = BootRecord::deserialize(**page)) {
      record->copy = static_cast<int>(copy);
      records_.push_back(std::move(*record));
    }
  }
  std::sort(records_.begin(), records_.end(),
            [](const BootRecord& a, const BootRecord& b) { return a.generation > b.generation; });
  return {};
}

nand::Partition* FirmwareStore::slot(std::string_view name, int s) const {
  for (std::size_t i = 0; i < layout_.images.size(); ++i) {
    if (layout_.images[i].name == name) return slots_[i][static_cast<std::size_t>(s)].get();
  }
  return nullptr;
}

bool FirmwareStore::has_image(std::string_view name) const {
  return slot(name, 0) != nullptr;
}

std::uint64_t FirmwareStore::capacity(std::string_view name, int s) const {
  const auto* part = slot(name, s);
  return part ? part->geometry().capacity_bytes() : 0;
}

std::uint32_t FirmwareStore::page_size() const {
  return device_.geometry().page_size;
}
std::uint64_t FirmwareStore::block_bytes() const {
  return device_.geometry().block_bytes();
}

bool VerifiedImages::verify(const std::string& key, std::span<const std::uint8_t> data,
                            const Digest& digest) {
  if (const auto* bytes = known(key, digest);
      bytes && std::equal(data.begin(), data.end(), bytes->begin(), bytes->end())) {
    return true;
  }
  if (sha256(data) != digest) return false;
  entries_[key] = Entry{digest, {data.begin(), data.end()}};
  return true;
}

const std::vector<std::uint8_t>* VerifiedImages::known(const std::string& key,
                                                       const Digest& digest) const {
  const auto it = entries_.find(key);
  return it != entries_.end() && it->second.digest == digest ? &it->second.data : nullptr;
}

template <typename Sink>
Status FirmwareStore::read_pages(nand::Partition& part, const std::string& name, std::uint64_t size,
                                 Sink&& sink) {
  const auto& g = part.geometry();
  std::vector<std::uint8_t> page(g.page_size);
  for (std::uint64_t offset = 0; offset < size; offset += g.page_size) {
    const std::uint64_t n = offset / g.page_size;
    const nand::PageAddr addr{static_cast<std::uint32_t>(n / g.pages_per_block),
                              static_cast<std::uint32_t>(n % g.pages_per_block)};
    auto ok = part.read(addr, page, {});
    if (!ok) {
      if (ok.error().code == nand::Errc::power_loss) {
        return detail::nand_failure("reading firmware", ok.error());
      }
      return fail(ErrorCode::kBadPackage, "image " + name + " unreadable: " + ok.error().message());
    }
    const auto take = std::min<std::uint64_t>(g.page_size, size - offset);
    sink(offset, std::span<const std::uint8_t>(page.data(), take));
  }
  return {};
}

Result<FirmwareBundle> FirmwareStore::read(const BootRecord& record, VerifiedImages* verified) {
  return read(record, verified, Keep::images);
}

Result<FirmwareBundle> FirmwareStore::read(const BootRecord& record, VerifiedImages* verified,
                                           Keep keep) {
  FirmwareBundle bundle;
  bundle.model = record.model;
  bundle.version = record.version;
  for (const auto& image : record.images) {
    nand::Partition* part = slot(image.name, record.slot);
    if (!part) return fail(ErrorCode::kBadPackage, "no partition for image " + image.name);
    if (image.size > part->geometry().capacity_bytes()) {
      return fail(ErrorCode::kBadPackage, "image " + image.name + " larger than its slot");
    }
    const std::string key = image.name + (record.slot ? "@B" : "@A");
    const std::vector<std::uint8_t>* known =
        verified && keep == Keep::record ? verified->known(key, image.digest) : nullptr;
    if (known && known->size() != image.size) known = nullptr;
    // Each page is read once. While it matches what an earlier boot
    // verified nothing is copied; from the first page that differs (or
    // with nothing known) the bytes are collected for the SHA-256.
    std::uint64_t matched = 0;
    std::vector<std::uint8_t> data;
    auto take = [&](std::uint64_t offset, std::span<const std::uint8_t> bytes) {
      if (known && matched == offset &&
          std::equal(bytes.begin(), bytes.end(), known->begin() + offset)) {
        matched += bytes.size();
        return;
      }
      if (data.empty()) {
        data.reserve(image.size);
        if (known) data.assign(known->begin(), known->begin() + offset);
      }
      data.insert(data.end(), bytes.begin(), bytes.end());
    };
    if (auto ok = read_pages(*part, image.name, image.size, take); !ok) {
      return tl::unexpected(ok.error());
    }
    if (known && matched == image.size) continue;  // verified before, the same bytes
    const bool good =
        verified ? verified->verify(key, data, image.digest) : sha256(data) == image.digest;
    if (!good) {
      return fail(ErrorCode::kBadPackage, "image " + image.name + " in slot " +
                                              (record.slot ? "B" : "A") +
                                              " does not match its SHA-256");
    }
    if (keep == Keep::images) bundle.images.push_back({image.name, std::move(data)});
  }
  return bundle;
}

Result<LoadedFirmware> FirmwareStore::load(VerifiedImages* verified) {
  return load(verified, Keep::images);
}

Result<LoadedFirmware> FirmwareStore::load_record(VerifiedImages* verified) {
  return load(verified, Keep::record);
}

Result<LoadedFirmware> FirmwareStore::load(VerifiedImages* verified, Keep keep) {
  if (records_.empty()) return fail(ErrorCode::kBadPackage, "no valid boot record");
  std::string why;
  for (const auto& record : records_) {
    auto bundle = read(record, verified, keep);
    if (bundle) return LoadedFirmware{record, std::move(*bundle), !why.empty(), why};
    if (is_flash_failure(bundle.error().code)) return tl::unexpected(bundle.error());
    why += (why.empty() ? "" : "; ") + bundle.error().message;
  }
  return fail(ErrorCode::kBadPackage, "no bootable firmware: " + why);
}

Status FirmwareStore::install(const FirmwareBundle& bundle, const BootRecord* running,
                              const Digest& installed_by) {
  const int target = running ? 1 - running->slot : 0;
  BootRecord next;
  next.slot = static_cast<std::uint8_t>(target);
  next.model = bundle.model;
  next.version = bundle.version;
  next.installed_by = installed_by;
  auto sink = slot_writer(target);
  const std::uint32_t page = page_size();
  for (std::size_t i = 0; i < bundle.images.size(); ++i) {
    const auto& image = bundle.images[i];
    PackageImage entry;
    entry.name = image.name;
    entry.has_target = true;
    entry.target_size = image.data.size();
    if (!has_image(image.name)) {
      return fail(ErrorCode::kFirmwareMismatch, "no firmware partition named " + image.name);
    }
    if (auto st = sink->begin_image(i, entry, 0); !st) return st;
    for (std::uint64_t offset = 0; offset < image.data.size(); offset += page) {
      const auto n = std::min<std::uint64_t>(page, image.data.size() - offset);
      if (auto st = sink->write(offset, ByteView(image.data).subspan(offset, n)); !st) return st;
    }
    next.images.push_back({image.name, image.data.size(), sha256(image.data)});
  }
  return commit(std::move(next), running);
}

Status FirmwareStore::commit(BootRecord next, const BootRecord* keep) {
  std::uint64_t generation = 0;
  for (const auto& r : records_)
    generation = std::max(generation, r.generation);
  // Only a record this store did not write can get here (generations count
  // up from 1): wrapping to 0 would leave that record in force.
  if (generation == std::numeric_limits<std::uint64_t>::max()) {
    return fail(ErrorCode::kBadPackage, "the boot record's generation number is exhausted");
  }
  next.generation = generation + 1;
  // Never overwrite the record the module runs on; otherwise replace the
  // older copy.
  std::uint32_t copy = 0;
  if (keep && keep->copy >= 0) {
    copy = 1 - static_cast<std::uint32_t>(keep->copy);
  } else if (!records_.empty()) {
    copy = 1 - static_cast<std::uint32_t>(records_.front().copy);
  }
  const auto bytes = next.serialize();
  if (bytes.size() > page_size())
    return fail(ErrorCode::kNoSpace, "boot record larger than a page");
  if (auto st = detail::write_sealed(*record_partition_, copy, bytes, "writing the boot record");
      !st) {
    return st;
  }
  return reload_records();
}

std::unique_ptr<TargetSink> FirmwareStore::slot_writer(int s) {
  return std::make_unique<SlotSink>(*this, s,
                                    [this, s](std::string_view name) { return slot(name, s); });
}

}  // namespace vmodem::fota
