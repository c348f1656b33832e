// FileSystem: namespace and handle operations (argument checks, then Volume).
#include <algorithm>

#include "volume.hpp"

namespace vmodem::fs {

namespace {

Status writable(const Volume& v) {
  if (v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  if (v.read_only) return fail(Errc::read_only, "mounted read-only");
  return {};
}

Stat make_stat(const Object& o) {
  Stat s;
  s.id = o.id;
  s.type = o.type;
  s.size = o.visible_size();
  s.mode = o.mode;
  s.mtime = o.mtime;
  for (const auto& c : o.chunks)
    s.pages += c.page != kNoPage ? 1 : 0;
  return s;
}

// The open file behind `handle`, whatever state the volume is in (closing a
// handle must work after a power loss too).
Result<OpenFile*> slot_of(Volume& v, Handle handle) {
  if (handle == 0 || handle > v.handles.size() || !v.handles[handle - 1].used) {
    return fail(Errc::bad_handle, "handle " + std::to_string(handle));
  }
  return &v.handles[handle - 1];
}

// The open file behind `handle`, for an operation that needs the flash.
Result<OpenFile*> handle_of(Volume& v, Handle handle) {
  auto slot = slot_of(v, handle);
  if (slot && v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  return slot;
}

}  // namespace

Status FileSystem::mkdir(std::string_view path, std::uint32_t mode) {
  Volume& v = *volume_;
  if (auto ok = writable(v); !ok) return ok;
  auto parent = v.lookup_parent(path);
  if (!parent) return tl::unexpected(parent.error());
  if (parent->first->children.count(parent->second)) return fail(Errc::exists, std::string(path));
  auto made = v.create(*parent->first, parent->second, FileType::directory, mode);
  if (!made) return tl::unexpected(made.error());
  return {};
}

Status FileSystem::rmdir(std::string_view path) {
  Volume& v = *volume_;
  if (auto ok = writable(v); !ok) return ok;
  auto found = v.lookup(path);
  if (!found) return tl::unexpected(found.error());
  Object& o = **found;
  if (o.type != FileType::directory) return fail(Errc::not_dir, std::string(path));
  if (o.id == layout::kRootId) return fail(Errc::invalid_argument, "cannot remove the root");
  if (!o.children.empty()) return fail(Errc::not_empty, std::string(path));
  return v.remove(o);
}

Status FileSystem::unlink(std::string_view path) {
  Volume& v = *volume_;
  if (auto ok = writable(v); !ok) return ok;
  auto found = v.lookup(path);
  if (!found) return tl::unexpected(found.error());
  Object& o = **found;
  if (o.type == FileType::directory) return fail(Errc::is_dir, std::string(path));
  if (o.open_count) return fail(Errc::busy, std::string(path) + " is open");
  return v.remove(o);
}

Status FileSystem::rename(std::string_view from, std::string_view to) {
  if (auto ok = writable(*volume_); !ok) return ok;
  return volume_->rename(from, to);
}

Result<Stat> FileSystem::stat(std::string_view path) {
  if (volume_->dead) return fail(Errc::power_loss, "power was lost; mount again");
  auto found = volume_->lookup(path);
  if (!found) return tl::unexpected(found.error());
  return make_stat(**found);
}

Result<std::vector<DirEntry>> FileSystem::readdir(std::string_view path) {
  Volume& v = *volume_;
  if (v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  auto found = v.lookup(path);
  if (!found) return tl::unexpected(found.error());
  if ((*found)->type != FileType::directory) return fail(Errc::not_dir, std::string(path));
  std::vector<DirEntry> entries;
  for (const auto& [name, id] : (*found)->children) {
    const Object& o = v.objects.at(id);
    entries.push_back(DirEntry{name, o.type, o.visible_size()});
  }
  return entries;
}

Result<Handle> FileSystem::open(std::string_view path, std::uint32_t flags, std::uint32_t mode) {
  Volume& v = *volume_;
  if (v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  if ((flags & kReadWrite) == 0) return fail(Errc::invalid_argument, "open needs kRead or kWrite");
  const bool writes = flags & (kWrite | kCreate | kTruncate);
  if (writes && v.read_only) return fail(Errc::read_only, "mounted read-only");
  const auto open_now =
      std::count_if(v.handles.begin(), v.handles.end(), [](auto& h) { return h.used; });
  if (open_now >= static_cast<std::ptrdiff_t>(v.cfg.max_open_files)) {
    return fail(Errc::too_many_open, "limit " + std::to_string(v.cfg.max_open_files));
  }
  auto parent = v.lookup_parent(path);
  if (!parent) return tl::unexpected(parent.error());
  Object* o = nullptr;
  if (auto it = parent->first->children.find(parent->second); it != parent->first->children.end()) {
    if ((flags & kCreate) && (flags & kExclusive)) return fail(Errc::exists, std::string(path));
    o = &v.objects.at(it->second);
    if (o->type == FileType::directory) return fail(Errc::is_dir, std::string(path));
  } else {
    if (!(flags & kCreate)) return fail(Errc::not_found, std::string(path));
    auto made = v.create(*parent->first, parent->second, FileType::file, mode);
    if (!made) return tl::unexpected(made.error());
    o = *made;
  }
  if ((flags & kTruncate) && (flags & kWrite)) {
    if (auto ok = v.truncate(*o, 0); !ok) return tl::unexpected(ok.error());
  }
  auto slot = std::find_if(v.handles.begin(), v.handles.end(), [](auto& h) { return !h.used; });
  if (slot == v.handles.end()) slot = v.handles.insert(v.handles.end(), OpenFile{});
  *slot = OpenFile{o->id, 0, flags, true};
  ++o->open_count;
  return static_cast<Handle>(slot - v.handles.begin() + 1);
}

Status FileSystem::close(Handle handle) {
  Volume& v = *volume_;
  auto found = slot_of(v, handle);
  if (!found) return tl::unexpected(found.error());
  OpenFile& h = **found;
  h.used = false;
  auto it = v.objects.find(h.object);
  if (it == v.objects.end()) return {};
  Object& o = it->second;
  --o.open_count;
  if (v.dead) return fail(Errc::power_loss, "power was lost; mount again");
  if (!(h.flags & kWrite)) return {};
  auto committed = v.commit(o);
  if (!committed && o.open_count == 0) v.discard(o);  // keep the last committed content
  return committed;
}

Status FileSystem::close_discard(Handle handle) {
  Volume& v = *volume_;
  auto found = slot_of(v, handle);
  if (!found) return tl::unexpected(found.error());
  OpenFile& h = **found;
  h.used = false;
  auto it = v.objects.find(h.object);
  if (it == v.objects.end()) return {};
  --it->second.open_count;
  v.discard(it->second);
  return {};
}

Result<std::size_t> FileSystem::pread(Handle handle, std::span<std::uint8_t> out,
                                      std::uint64_t offset) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  if (!((*h)->flags & kRead)) return fail(Errc::bad_handle, "handle not open for reading");
  return volume_->read_at(volume_->objects.at((*h)->object), offset, out);
}

Result<std::size_t> FileSystem::pwrite(Handle handle, std::span<const std::uint8_t> data,
                                       std::uint64_t offset) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  if (!((*h)->flags & kWrite)) return fail(Errc::bad_handle, "handle not open for writing");
  Object& o = volume_->objects.at((*h)->object);
  if ((*h)->flags & kAppend) offset = o.visible_size();
  return volume_->write_at(o, offset, data);
}

Result<std::size_t> FileSystem::read(Handle handle, std::span<std::uint8_t> out) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  auto n = pread(handle, out, (*h)->pos);
  if (n) (*h)->pos += *n;
  return n;
}

Result<std::size_t> FileSystem::write(Handle handle, std::span<const std::uint8_t> data) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  auto n = pwrite(handle, data, (*h)->pos);
  if (n) {
    const Object& o = volume_->objects.at((*h)->object);
    (*h)->pos = ((*h)->flags & kAppend) ? o.visible_size() : (*h)->pos + *n;
  }
  return n;
}

Result<std::uint64_t> FileSystem::seek(Handle handle, std::int64_t offset, Whence whence) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  const Object& o = volume_->objects.at((*h)->object);
  std::int64_t base = 0;
  if (whence == Whence::current) base = static_cast<std::int64_t>((*h)->pos);
  if (whence == Whence::end) base = static_cast<std::int64_t>(o.visible_size());
  const std::int64_t to = base + offset;
  if (to < 0) return fail(Errc::invalid_argument, "seek before the start");
  (*h)->pos = static_cast<std::uint64_t>(to);
  return (*h)->pos;
}

Status FileSystem::truncate(Handle handle, std::uint64_t size) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  if (!((*h)->flags & kWrite)) return fail(Errc::bad_handle, "handle not open for writing");
  return volume_->truncate(volume_->objects.at((*h)->object), size);
}

Status FileSystem::truncate(std::string_view path, std::uint64_t size) {
  Volume& v = *volume_;
  if (auto ok = writable(v); !ok) return ok;
  auto found = v.lookup(path);
  if (!found) return tl::unexpected(found.error());
  if ((*found)->type == FileType::directory) return fail(Errc::is_dir, std::string(path));
  if (auto ok = v.truncate(**found, size); !ok) return ok;
  return v.commit(**found);
}

Status FileSystem::fsync(Handle handle) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  return volume_->commit(volume_->objects.at((*h)->object));
}

Result<Stat> FileSystem::fstat(Handle handle) {
  auto h = handle_of(*volume_, handle);
  if (!h) return tl::unexpected(h.error());
  return make_stat(volume_->objects.at((*h)->object));
}

Status FileSystem::write_file(std::string_view path, std::span<const std::uint8_t> data) {
  auto h = open(path, kWrite | kCreate | kTruncate);
  if (!h) return tl::unexpected(h.error());
  auto n = write(*h, data);
  if (!n) {
    (void)close_discard(*h);
    return tl::unexpected(n.error());
  }
  return close(*h);
}

Result<std::vector<std::uint8_t>> FileSystem::read_file(std::string_view path) {
  auto h = open(path, kRead);
  if (!h) return tl::unexpected(h.error());
  std::vector<std::uint8_t> data(
      volume_->objects.at(volume_->handles[*h - 1].object).visible_size());
  auto n = pread(*h, data, 0);
  (void)close(*h);
  if (!n) return tl::unexpected(n.error());
  data.resize(*n);
  return data;
}

}  // namespace vmodem::fs
