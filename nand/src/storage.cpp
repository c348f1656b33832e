// Storage: one byte layout (image_layout.hpp) over anonymous memory or a
// MAP_SHARED file mapping, plus the deviation store and COW snapshots.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmodem/nand/rng.hpp>
#include <vmodem/nand/storage.hpp>

#include "bits.hpp"
#include "checkpoint.hpp"
#include "image_io.hpp"
#include "image_layout.hpp"
#include "mapping_guard.hpp"
#include "snapshot.hpp"

namespace vmodem::nand {

namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " +
         std::error_code(errno, std::generic_category()).message();
}

std::string describe(const Geometry& g) {
  return std::to_string(g.block_count) + " blocks x " + std::to_string(g.pages_per_block) +
         " pages x " + std::to_string(g.page_size) + "+" + std::to_string(g.spare_size) +
         " bytes, NOP " + std::to_string(g.nop);
}

Status validate_geometry(const Geometry& g) {
  const bool ok = g.page_size >= 512 && g.page_size <= kMaxPageSize && g.page_size % 512 == 0 &&
                  g.spare_size >= 16 && g.spare_size <= kMaxSpareSize && g.pages_per_block >= 2 &&
                  g.pages_per_block <= 255 && g.block_count >= 1 && g.nop >= 1 && g.nop <= 255;
  if (!ok) return fail(Errc::invalid_argument, -1, -1, "unsupported geometry: " + describe(g));
  return {};
}

// A mapping of the whole layout; unmapped (and the file closed) on destruction.
struct Mapping {
  std::uint8_t* base = nullptr;
  std::uint64_t size = 0;
  int fd = -1;
  int guard_slot = -1;  // mapping_guard's, for a file mapping

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    mapping_guard::release(guard_slot);
    if (base != nullptr) munmap(base, size);
    if (fd >= 0) close(fd);
  }
};

Result<layout::Header> read_header(int fd, const std::filesystem::path& path) {
  layout::Header header{};
  const ssize_t got = pread(fd, &header, sizeof header, 0);
  if (got < 0) return fail(Errc::io_error, -1, -1, errno_text("cannot read", path));
  if (static_cast<std::size_t>(got) < sizeof header ||
      std::memcmp(header.magic, layout::kMagic, sizeof header.magic) != 0) {
    return fail(Errc::bad_image, -1, -1, path.string() + " is not a vmodem NAND image");
  }
  if (header.format_version < layout::kOldestFormatVersion ||
      header.format_version > layout::kFormatVersion ||
      header.byte_order != layout::kByteOrderMark) {
    return fail(Errc::bad_image, -1, -1,
                path.string() + " has image format version " +
                    std::to_string(header.format_version) + "; this vmodem reads versions " +
                    std::to_string(layout::kOldestFormatVersion) + " to " +
                    std::to_string(layout::kFormatVersion));
  }
  if (header.format_version == 1) header.attachment_offset = header.attachment_size = 0;
  if (header.attachment_size > kMaxAttachmentBytes) {
    return fail(Errc::bad_image, -1, -1,
                path.string() + " records an attachment of " +
                    std::to_string(header.attachment_size) + " bytes (at most " +
                    std::to_string(kMaxAttachmentBytes) + ")");
  }
  return header;
}

Geometry geometry_of(const layout::Header& h) {
  return Geometry{h.page_size, h.spare_size, h.pages_per_block, h.block_count, h.nop};
}

}  // namespace

namespace {

// Content ids are unique in the process: two storages never share one.
std::atomic<std::uint64_t> next_content_id{1};
std::uint64_t fresh_content_id() {
  return next_content_id.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

struct Storage::Impl {
  Mapping mapping;
  layout::Offsets offsets{};
  layout::Header* header = nullptr;
  std::uint32_t raw_page = 0;
  std::vector<std::uint32_t> free_slots;  // LIFO of free 0-based slot indices
  std::uint32_t slots_in_use = 0;
  SnapshotStore snapshot;
  // Outermost first; the first `checkpoint_depth` are active. Each saves
  // what changes after its own begin: an inactive one ignores the calls.
  std::array<Checkpoint, Storage::kMaxCheckpoints> checkpoints;
  std::uint32_t checkpoint_depth = 0;
  std::optional<FileId> id;  // the image file's, if file-backed
  // Storage::content_id(), and the ids the rollback points give back.
  std::uint64_t content_id = fresh_content_id();
  std::uint64_t snapshot_content_id = 0;
  std::array<std::uint64_t, Storage::kMaxCheckpoints> checkpoint_content_ids{};

  template <typename F>
  void each_checkpoint(F&& f) {
    for (std::uint32_t i = 0; i < checkpoint_depth; ++i)
      f(checkpoints[i]);
  }

  // Every change to cells or masks is announced to both rollback points.
  void touch_page(PageAddr addr) {
    snapshot.touch_page(addr);
    each_checkpoint([&](Checkpoint& c) { c.touch_page(addr); });
    content_id = fresh_content_id();
  }

  std::uint8_t* cells(const Geometry& g, PageAddr a) {
    return mapping.base + offsets.cells +
           (std::uint64_t{a.block} * g.pages_per_block + a.page) * raw_page;
  }
  std::uint32_t* owners() {
    return reinterpret_cast<std::uint32_t*>(mapping.base + offsets.owners);
  }
  std::uint8_t* mask(std::uint32_t slot_index) {
    return mapping.base + offsets.masks + std::uint64_t{slot_index} * raw_page;
  }

  // An image is untrusted input: metadata that points outside its regions
  // would turn a read into an out-of-bounds access. Returns a description
  // of the first inconsistency, or an empty string.
  std::string check_metadata(const Geometry& g) {
    const std::uint32_t slots = header->deviation_slots;
    const auto* blocks = reinterpret_cast<const BlockMeta*>(mapping.base + offsets.block_meta);
    const auto* pages = reinterpret_cast<const PageMeta*>(mapping.base + offsets.page_meta);
    for (std::uint32_t b = 0; b < g.block_count; ++b) {
      if (blocks[b].next_page > g.pages_per_block) {
        return "block " + std::to_string(b) + " claims " + std::to_string(blocks[b].next_page) +
               " programmed pages";
      }
    }
    for (std::uint64_t i = 0; i < g.page_count(); ++i) {
      const std::uint32_t slot = pages[i].deviation_slot;
      if (slot == 0) continue;
      if (slot > slots || owners()[slot - 1] != i + 1) {
        return "page " + std::to_string(i) + " points to damage record " + std::to_string(slot) +
               " it does not own";
      }
    }
    for (std::uint32_t s = 0; s < slots; ++s) {
      const std::uint32_t owner = owners()[s];
      if (owner != 0 && (owner > g.page_count() || pages[owner - 1].deviation_slot != s + 1)) {
        return "damage record " + std::to_string(s + 1) + " names page " +
               std::to_string(owner - 1) + " that does not point back";
      }
    }
    return {};
  }

  void rebuild_free_slots() {
    free_slots.clear();
    slots_in_use = 0;
    const std::uint32_t n = header->deviation_slots;
    for (std::uint32_t i = n; i-- > 0;) {
      if (owners()[i] == 0) {
        free_slots.push_back(i);
      } else {
        ++slots_in_use;
      }
    }
  }
};

Storage::Storage(std::unique_ptr<Impl> impl, Geometry geometry, std::filesystem::path path,
                 bool read_only)
    : impl_(std::move(impl)), geometry_(geometry), path_(std::move(path)), read_only_(read_only) {
  impl_->raw_page = geometry_.raw_page_size();
  impl_->rebuild_free_slots();
  impl_->snapshot.attach(*this);
  for (Checkpoint& c : impl_->checkpoints)
    c.attach(*this);
}

Storage::~Storage() = default;

namespace {

void init_header(layout::Header& h, const Geometry& g, const StorageOptions& options,
                 const layout::Offsets& o) {
  std::memcpy(h.magic, layout::kMagic, sizeof h.magic);
  h.format_version = layout::kFormatVersion;
  h.header_size = layout::kHeaderSize;
  h.byte_order = layout::kByteOrderMark;
  h.page_size = g.page_size;
  h.spare_size = g.spare_size;
  h.pages_per_block = g.pages_per_block;
  h.block_count = g.block_count;
  h.nop = g.nop;
  h.deviation_slots = options.deviation_slots;
  h.manufacture_seed = options.manufacture_seed;
  std::strncpy(h.label, options.label.c_str(), sizeof h.label - 1);
  h.cells_offset = o.cells;
  h.block_meta_offset = o.block_meta;
  h.page_meta_offset = o.page_meta;
  h.owners_offset = o.owners;
  h.masks_offset = o.masks;
  h.total_size = o.total;
  h.attachment_offset = o.attachment;
  h.attachment_size = options.attachment.size();
}

// Writes the attachment into a fresh device's mapping at `base`.
void init_attachment(std::uint8_t* base, const StorageOptions& options, const layout::Offsets& o) {
  // Bytes, not a C string: no terminator is wanted (the header records the size).
  std::copy(options.attachment.begin(), options.attachment.end(), base + o.attachment);
}

}  // namespace

Result<std::unique_ptr<Storage>> Storage::create_in_memory(const Geometry& geometry,
                                                           const StorageOptions& options) {
  if (auto ok = validate_geometry(geometry); !ok) return tl::unexpected(ok.error());
  if (options.attachment.size() > kMaxAttachmentBytes)
    return fail(Errc::invalid_argument, -1, -1, "the attachment is too large");
  auto impl = std::make_unique<Impl>();
  impl->offsets =
      layout::compute_offsets(geometry, options.deviation_slots, options.attachment.size());
  void* base = mmap(nullptr, impl->offsets.total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    return fail(
        Errc::io_error, -1, -1,
        "cannot allocate device: " + std::error_code(errno, std::generic_category()).message());
  }
  impl->mapping.base = static_cast<std::uint8_t*>(base);
  impl->mapping.size = impl->offsets.total;
  impl->header = reinterpret_cast<layout::Header*>(impl->mapping.base);
  init_header(*impl->header, geometry, options, impl->offsets);
  init_attachment(impl->mapping.base, options, impl->offsets);
  return std::unique_ptr<Storage>(new Storage(std::move(impl), geometry, {}, false));
}

Result<std::unique_ptr<Storage>> Storage::create_image(const std::filesystem::path& path,
                                                       const Geometry& geometry,
                                                       const StorageOptions& options) {
  if (auto ok = validate_geometry(geometry); !ok) return tl::unexpected(ok.error());
  if (options.attachment.size() > kMaxAttachmentBytes)
    return fail(Errc::invalid_argument, -1, -1, "the attachment is too large");
  const auto offsets =
      layout::compute_offsets(geometry, options.deviation_slots, options.attachment.size());
  // 0600: an image holds the module's secrets (APN passwords, files).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::io_error, -1, -1, errno_text("cannot create", path));
  auto impl = std::make_unique<Impl>();
  impl->mapping.fd = fd;
  impl->offsets = offsets;
  // ftruncate leaves a sparse file of zero bytes: an erased device, since
  // cells are stored inverted.
  layout::Header header{};
  init_header(header, geometry, options, offsets);
  const auto attachment_bytes = static_cast<ssize_t>(options.attachment.size());
  if (ftruncate(fd, static_cast<off_t>(offsets.total)) != 0 ||
      pwrite(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      pwrite(fd, options.attachment.data(), options.attachment.size(),
             static_cast<off_t>(offsets.attachment)) != attachment_bytes) {
    auto error = fail(Errc::io_error, -1, -1, errno_text("cannot write", path));
    std::filesystem::remove(path);
    return error;
  }
  impl.reset();
  auto opened = open_image(path, geometry, false);
  if (!opened) std::filesystem::remove(path);
  return opened;
}

bool Storage::in_use_by_writer(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return false;
  // A writer holds LOCK_EX (open_image): a shared lock is then refused.
  const bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return busy;
}

namespace {

// An image file's header, checked against its size and `expected`.
struct ImageShape {
  Geometry geometry;
  layout::Header header;
  layout::Offsets offsets;
};

Result<ImageShape> inspect_image(int fd, std::uint64_t size, const std::filesystem::path& path,
                                 std::optional<Geometry> expected) {
  auto header = read_header(fd, path);
  if (!header) return tl::unexpected(header.error());
  const Geometry geometry = geometry_of(*header);
  if (auto ok = validate_geometry(geometry); !ok) {
    return fail(Errc::bad_image, -1, -1, path.string() + ": " + ok.error().detail);
  }
  const auto offsets =
      layout::compute_offsets(geometry, header->deviation_slots, header->attachment_size);
  const bool attachment_placed =
      header->attachment_size == 0 || header->attachment_offset == offsets.attachment;
  if (size != offsets.total || header->total_size != offsets.total ||
      header->cells_offset != offsets.cells || header->masks_offset != offsets.masks ||
      !attachment_placed) {
    return fail(Errc::bad_image, -1, -1,
                path.string() + " is truncated or its layout is inconsistent (size " +
                    std::to_string(size) + ", expected " + std::to_string(offsets.total) + ")");
  }
  if (expected && !(*expected == geometry)) {
    return fail(Errc::bad_image, -1, -1,
                path.string() + " holds a chip of " + describe(geometry) +
                    "; the profile asks for " + describe(*expected) +
                    ". Use another state directory or re-create the image.");
  }
  return ImageShape{geometry, *header, offsets};
}

}  // namespace

Result<std::unique_ptr<Storage>> Storage::open_image(const std::filesystem::path& path,
                                                     std::optional<Geometry> expected,
                                                     bool read_only) {
  // Validate through a read-only descriptor first, so a file of another kind
  // is never opened for writing, let alone changed.
  std::uint64_t size = 0;
  auto probe = image_io::open_regular_for_read(path, &size);
  if (!probe) return tl::unexpected(probe.error());
  auto shape = inspect_image(*probe, size, path, expected);
  ::close(*probe);
  if (!shape) return tl::unexpected(shape.error());
  const auto& offsets = shape->offsets;

  auto impl = std::make_unique<Impl>();
  impl->offsets = offsets;
  // O_NONBLOCK and the checks below: the name may have been swapped since.
  const int fd =
      ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::io_error, -1, -1, errno_text("cannot open", path));
  impl->mapping.fd = fd;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != offsets.total) {
    return fail(Errc::bad_image, -1, -1, path.string() + " changed while it was opened");
  }
  impl->id = FileId{st.st_dev, st.st_ino};
  if (!read_only && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return fail(Errc::io_error, -1, -1,
                path.string() + " is in use by another process (is vmodem running on it?)");
  }
  if (!read_only) {
    if (auto ok = image_io::reserve_blocks(fd, offsets.total, path); !ok)
      return tl::unexpected(ok.error());
  }
  // Read-only opens map privately: reads still update counters in memory,
  // but nothing ever reaches the file.
  void* base = mmap(nullptr, offsets.total, PROT_READ | PROT_WRITE,
                    read_only ? MAP_PRIVATE : MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return fail(Errc::io_error, -1, -1, errno_text("cannot map", path));
  impl->mapping.base = static_cast<std::uint8_t*>(base);
  impl->mapping.size = offsets.total;
  impl->mapping.guard_slot = mapping_guard::guard(base, offsets.total);
  impl->header = reinterpret_cast<layout::Header*>(impl->mapping.base);
  // A NAND model touches a page here and a page there (a mount reads one
  // header per block): readahead would fill the page cache with the erased
  // pages around each, most of the image for one scan.
  madvise(base, offsets.total, MADV_RANDOM);
  if (auto problem = impl->check_metadata(shape->geometry); !problem.empty()) {
    return fail(Errc::bad_image, -1, -1, path.string() + " has inconsistent metadata: " + problem);
  }
  return std::unique_ptr<Storage>(new Storage(std::move(impl), shape->geometry, path, read_only));
}

Result<std::unique_ptr<Storage>> Storage::load_into_memory(const std::filesystem::path& path,
                                                           std::optional<Geometry> expected) {
  std::uint64_t size = 0;
  auto fd = image_io::open_regular_for_read(path, &size);
  if (!fd) return tl::unexpected(fd.error());
  Mapping closer;  // closes the descriptor on every return
  closer.fd = *fd;
  auto shape = inspect_image(*fd, size, path, expected);
  if (!shape) return tl::unexpected(shape.error());
  StorageOptions options;
  options.deviation_slots = shape->header.deviation_slots;
  options.attachment.assign(shape->header.attachment_size, '\0');  // read with the rest
  auto ram = create_in_memory(shape->geometry, options);
  if (!ram) return ram;
  // pread, not a mapping: a file truncated by someone else while it is read
  // is a short read here, not a SIGBUS. Erased (zero) chunks are skipped,
  // so they cost no memory.
  constexpr std::uint64_t kChunk = 64 * 1024;
  std::vector<std::uint8_t> chunk(kChunk);
  std::uint8_t* base = (*ram)->impl_->mapping.base;
  for (std::uint64_t at = 0; at < size; at += kChunk) {
    const std::uint64_t n = std::min(kChunk, size - at);
    const ssize_t got = pread(*fd, chunk.data(), n, static_cast<off_t>(at));
    if (got != static_cast<ssize_t>(n)) {
      return fail(Errc::bad_image, -1, -1,
                  got < 0 ? errno_text("cannot read", path)
                          : path.string() + " was truncated while it was read");
    }
    if (!bits::all_zero({chunk.data(), n})) std::memcpy(base + at, chunk.data(), n);
  }
  auto& impl = *(*ram)->impl_;
  if (auto problem = impl.check_metadata(shape->geometry); !problem.empty()) {
    return fail(Errc::bad_image, -1, -1, path.string() + " has inconsistent metadata: " + problem);
  }
  impl.rebuild_free_slots();
  return ram;
}

std::uint32_t Storage::deviation_slot_count() const {
  return impl_->header->deviation_slots;
}
std::uint64_t Storage::manufacture_seed() const {
  return impl_->header->manufacture_seed;
}

std::string Storage::attachment() const {
  const auto size = impl_->header->attachment_size;
  if (size == 0) return {};
  const auto* at = impl_->mapping.base + impl_->offsets.attachment;
  return {reinterpret_cast<const char*>(at), size};
}

std::string Storage::label() const {
  const char* label = impl_->header->label;
  return std::string(label, strnlen(label, sizeof impl_->header->label));
}

Status Storage::sync() {
  if (!file_backed() || read_only_) return {};
  if (msync(impl_->mapping.base, impl_->mapping.size, MS_SYNC) != 0) {
    return fail(Errc::io_error, -1, -1, errno_text("cannot sync", path_));
  }
  return {};
}

std::optional<FileId> Storage::file_id() const {
  return impl_->id;
}

std::uint64_t Storage::lost_pages() const {
  return mapping_guard::lost_pages(impl_->mapping.guard_slot);
}

Result<std::unique_ptr<Storage>> Storage::copy_in_memory() const {
  StorageOptions options;
  options.deviation_slots = deviation_slot_count();
  options.attachment = attachment();
  auto ram = create_in_memory(geometry_, options);
  if (!ram) return ram;
  // The RAM device's pages are untouched zeros: copying only the chunks
  // that hold something keeps an erased region free.
  constexpr std::uint64_t kChunk = 64 * 1024;
  const std::uint8_t* from = impl_->mapping.base;
  std::uint8_t* to = (*ram)->impl_->mapping.base;
  const std::uint64_t size = impl_->mapping.size;
  for (std::uint64_t at = 0; at < size; at += kChunk) {
    const std::uint64_t n = std::min(kChunk, size - at);
    if (!bits::all_zero({from + at, n})) std::memcpy(to + at, from + at, n);
  }
  (*ram)->impl_->rebuild_free_slots();
  return ram;
}

Status Storage::export_image(const std::filesystem::path& path,
                             std::optional<FileId> also_refuse) const {
  std::vector<FileId> refuse;
  if (impl_->id) refuse.push_back(*impl_->id);
  if (also_refuse) refuse.push_back(*also_refuse);
  return image_io::write_file_replacing(path, {impl_->mapping.base, impl_->mapping.size}, refuse);
}

Status Storage::assign(const Storage& other) {
  if (!(other.geometry_ == geometry_) || other.deviation_slot_count() != deviation_slot_count()) {
    return fail(Errc::bad_image, -1, -1,
                "the image holds a chip of " + describe(other.geometry_) + " with " +
                    std::to_string(other.deviation_slot_count()) +
                    " damage records; this device is " + describe(geometry_) + " with " +
                    std::to_string(deviation_slot_count()));
  }
  snapshot_end();
  // Only the chunks that differ are written: the caller holds the device's
  // lock, and most of an image is erased in both. The chip ends where the
  // attachment begins (the same offset in both: same geometry and slots);
  // the attachment and where the header records it stay this device's.
  const auto own_version = impl_->header->format_version;
  const auto own_attachment =
      std::pair(impl_->header->attachment_offset, impl_->header->attachment_size);
  const std::uint64_t chip_end = impl_->offsets.attachment;
  constexpr std::uint64_t kChunk = 64 * 1024;
  std::uint8_t* to = impl_->mapping.base;
  const std::uint8_t* from = other.impl_->mapping.base;
  for (std::uint64_t at = 0; at < chip_end; at += kChunk) {
    const std::uint64_t n = std::min(kChunk, chip_end - at);
    if (std::memcmp(to + at, from + at, n) != 0) std::memcpy(to + at, from + at, n);
  }
  std::tie(impl_->header->attachment_offset, impl_->header->attachment_size) = own_attachment;
  impl_->header->total_size = impl_->offsets.total;
  impl_->header->format_version = own_version;
  impl_->rebuild_free_slots();
  impl_->content_id = fresh_content_id();
  return {};
}

Status Storage::import_image(const std::filesystem::path& path) {
  auto other = load_into_memory(path, geometry_);
  if (!other) return tl::unexpected(other.error());
  return assign(**other);
}

// --- cells ---

void Storage::read_cells(PageAddr addr, std::uint32_t column, std::span<std::uint8_t> out) const {
  const std::uint8_t* src = const_cast<Impl&>(*impl_).cells(geometry_, addr) + column;
  bits::invert_copy(out.data(), src, out.size());
}

void Storage::program_cells(PageAddr addr, std::uint32_t column,
                            std::span<const std::uint8_t> data) {
  impl_->touch_page(addr);
  // Stored inverted: cells & data  <=>  ~stored_new = ~stored & data
  //                                 <=>   stored_new = stored | ~data.
  bits::or_inverted(impl_->cells(geometry_, addr) + column, data.data(), data.size());
}

void Storage::set_cells(PageAddr addr, std::uint32_t column, std::span<const std::uint8_t> data) {
  impl_->touch_page(addr);
  bits::invert_copy(impl_->cells(geometry_, addr) + column, data.data(), data.size());
}

void Storage::erase_page_cells(PageAddr addr) {
  impl_->touch_page(addr);
  std::memset(impl_->cells(geometry_, addr), 0, impl_->raw_page);
}

bool Storage::cells_erased(PageAddr addr) const {
  // Stored inverted: an erased cell (1) is a 0 bit here.
  const std::uint8_t* cells = const_cast<Impl&>(*impl_).cells(geometry_, addr);
  std::uint64_t any = 0;
  for (std::uint32_t i = 0; i + 8 <= impl_->raw_page; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, cells + i, sizeof word);
    any |= word;
  }
  for (std::uint32_t i = impl_->raw_page & ~7U; i < impl_->raw_page; ++i)
    any |= cells[i];
  return any == 0;
}

void Storage::erase_cells(std::uint32_t block) {
  impl_->snapshot.touch_block(block);
  impl_->each_checkpoint([&](Checkpoint& c) { c.touch_block(block); });
  impl_->content_id = fresh_content_id();
  std::uint8_t* cells = impl_->cells(geometry_, {block, 0});
  const std::size_t size = std::size_t{geometry_.pages_per_block} * impl_->raw_page;
  // A block already erased is left as it is: storing zeros over it would
  // turn a hole of the sparse image into written disk (a format erases every
  // block of a partition: megabytes a fleet's clones would then copy).
  if (!bits::all_zero({cells, size})) std::memset(cells, 0, size);
}

// --- metadata ---

BlockMeta& Storage::block_meta(std::uint32_t block) {
  return reinterpret_cast<BlockMeta*>(impl_->mapping.base + impl_->offsets.block_meta)[block];
}
const BlockMeta& Storage::block_meta(std::uint32_t block) const {
  return const_cast<Storage*>(this)->block_meta(block);
}
PageMeta& Storage::page_meta(PageAddr addr) {
  auto* metas = reinterpret_cast<PageMeta*>(impl_->mapping.base + impl_->offsets.page_meta);
  return metas[std::uint64_t{addr.block} * geometry_.pages_per_block + addr.page];
}
const PageMeta& Storage::page_meta(PageAddr addr) const {
  return const_cast<Storage*>(this)->page_meta(addr);
}
DeviceCounters& Storage::counters() {
  return impl_->header->counters;
}
const DeviceCounters& Storage::counters() const {
  return impl_->header->counters;
}

// --- deviation store ---

// A writable mask may be changed through the pointer: the snapshot counts
// the page as touched (the const overload does not).
std::uint8_t* Storage::deviation(PageAddr addr) {
  const std::uint32_t slot = page_meta(addr).deviation_slot;
  if (slot == 0) return nullptr;
  impl_->touch_page(addr);
  return impl_->mask(slot - 1);
}
const std::uint8_t* Storage::deviation(PageAddr addr) const {
  const std::uint32_t slot = page_meta(addr).deviation_slot;
  return slot == 0 ? nullptr : const_cast<Impl&>(*impl_).mask(slot - 1);
}

Result<std::uint8_t*> Storage::deviation_acquire(PageAddr addr) {
  if (std::uint8_t* existing = deviation(addr)) return existing;
  impl_->touch_page(addr);
  if (impl_->free_slots.empty()) {
    return fail(Errc::resource_exhausted, addr.block, addr.page,
                "deviation store full (" + std::to_string(deviation_slot_count()) +
                    " damaged pages tracked); erase damaged blocks or raise deviation_slots");
  }
  const std::uint32_t slot = impl_->free_slots.back();
  impl_->free_slots.pop_back();
  ++impl_->slots_in_use;
  impl_->owners()[slot] = static_cast<std::uint32_t>(
      std::uint64_t{addr.block} * geometry_.pages_per_block + addr.page + 1);
  std::uint8_t* mask = impl_->mask(slot);
  std::memset(mask, 0, impl_->raw_page);
  page_meta(addr).deviation_slot = slot + 1;
  return mask;
}

void Storage::deviation_release(PageAddr addr) {
  PageMeta& meta = page_meta(addr);
  if (meta.deviation_slot == 0) return;
  impl_->touch_page(addr);
  const std::uint32_t slot = meta.deviation_slot - 1;
  impl_->owners()[slot] = 0;
  impl_->free_slots.push_back(slot);
  --impl_->slots_in_use;
  meta.deviation_slot = 0;
}

std::uint32_t Storage::deviation_slots_in_use() const {
  return impl_->slots_in_use;
}

// --- snapshots ---

void Storage::will_modify_meta(std::uint32_t block) {
  will_count_read(block);
  impl_->content_id = fresh_content_id();
}
void Storage::will_modify_data(std::uint32_t block) {
  if (impl_->snapshot.active()) impl_->snapshot.save_data(block);
  impl_->each_checkpoint([&](Checkpoint& c) { c.save_meta(block); });
  impl_->content_id = fresh_content_id();
}
void Storage::will_count_read(std::uint32_t block) {
  if (impl_->snapshot.active()) impl_->snapshot.save_meta(block);
  impl_->each_checkpoint([&](Checkpoint& c) { c.save_meta(block); });
}
std::uint64_t Storage::content_id() const {
  return impl_->content_id;
}
void Storage::name_deterministic_change(std::uint64_t before, std::uint64_t change) {
  constexpr std::uint64_t kDerived = std::uint64_t{1} << 63;
  impl_->content_id = Rng::mix(before, change) | kDerived;
}
void Storage::snapshot_begin() {
  impl_->snapshot.begin();
  impl_->snapshot_content_id = impl_->content_id;
}
void Storage::snapshot_rollback() {
  impl_->snapshot.rollback();
  impl_->content_id = impl_->snapshot_content_id;
}
void Storage::snapshot_end() {
  impl_->snapshot.end();
}
bool Storage::checkpoint_begin() {
  if (impl_->checkpoint_depth == kMaxCheckpoints) return false;
  const std::uint32_t level = impl_->checkpoint_depth++;
  impl_->checkpoints[level].begin();
  impl_->checkpoint_content_ids[level] = impl_->content_id;
  return true;
}
void Storage::checkpoint_rollback() {
  if (impl_->checkpoint_depth == 0) return;
  // The innermost ends first: what its rollback rewrites goes on being
  // saved by the checkpoints around it (they saved it already, at the
  // change being undone).
  const std::uint32_t level = --impl_->checkpoint_depth;
  impl_->checkpoints[level].rollback();
  impl_->content_id = impl_->checkpoint_content_ids[level];
}
bool Storage::checkpoint_active() const {
  return impl_->checkpoint_depth > 0;
}
std::uint32_t Storage::checkpoint_depth() const {
  return impl_->checkpoint_depth;
}
bool Storage::snapshot_active() const {
  return impl_->snapshot.active();
}
std::size_t Storage::snapshot_saved_blocks() const {
  return impl_->snapshot.saved_blocks();
}
std::size_t Storage::snapshot_dirty_blocks() const {
  return impl_->snapshot.dirty_blocks();
}

}  // namespace vmodem::nand
