// Paths and namespace operations: lookup, create, remove, rename.
#include <algorithm>

#include "volume.hpp"

namespace vmodem::fs {

Status validate_name(std::string_view name, std::uint32_t max_name) {
  if (name.empty() || name == "." || name == "..") {
    return fail(Errc::invalid_name, "name '" + std::string(name) + "' not allowed");
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return fail(Errc::invalid_name, "name contains '/' or NUL");
  }
  if (name.size() > max_name) {
    return fail(Errc::name_too_long, "name of " + std::to_string(name.size()) + " bytes, limit " +
                                         std::to_string(max_name));
  }
  return {};
}

namespace {

// Splits a path into validated components ("" and "/" = root).
Result<std::vector<std::string_view>> split(std::string_view path, const Config& cfg) {
  if (path.find('\0') != std::string_view::npos) return fail(Errc::invalid_name, "NUL in path");
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (auto ok = validate_name(part, cfg.max_name); !ok) return tl::unexpected(ok.error());
    parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return fail(Errc::invalid_name, "trailing '/'");
  }
  if (parts.size() > cfg.max_depth) return fail(Errc::invalid_name, "path too deep");
  return parts;
}

}  // namespace

Result<Object*> Volume::lookup(std::string_view path) {
  auto parts = split(path, cfg);
  if (!parts) return tl::unexpected(parts.error());
  Object* at = &objects.at(layout::kRootId);
  for (const auto part : *parts) {
    if (at->type != FileType::directory) return fail(Errc::not_dir, std::string(part));
    auto it = at->children.find(part);
    if (it == at->children.end()) return fail(Errc::not_found, std::string(path));
    at = &objects.at(it->second);
  }
  return at;
}

Result<std::pair<Object*, std::string>> Volume::lookup_parent(std::string_view path) {
  auto parts = split(path, cfg);
  if (!parts) return tl::unexpected(parts.error());
  if (parts->empty()) return fail(Errc::invalid_argument, "the root has no parent");
  Object* at = &objects.at(layout::kRootId);
  for (std::size_t i = 0; i + 1 < parts->size(); ++i) {
    auto it = at->children.find((*parts)[i]);
    if (it == at->children.end()) return fail(Errc::not_found, std::string(path));
    at = &objects.at(it->second);
    if (at->type != FileType::directory) return fail(Errc::not_dir, std::string((*parts)[i]));
  }
  return std::make_pair(at, std::string(parts->back()));
}

std::string Volume::path_of(const Object& object) const {
  std::string path;
  const Object* at = &object;
  for (std::size_t steps = 0; at->id != layout::kRootId && steps <= objects.size(); ++steps) {
    path = "/" + at->name + path;
    auto it = objects.find(at->parent);
    if (it == objects.end()) break;
    at = &it->second;
  }
  return path.empty() ? "/" : path;
}

Result<std::uint32_t> Volume::write_header(const Object& o, std::uint32_t parent,
                                           const std::string& name, std::uint32_t version,
                                           std::uint64_t size, std::uint32_t replaces,
                                           bool deleted) {
  layout::Header h;
  h.type = static_cast<std::uint8_t>(o.type);
  h.flags = deleted ? layout::kDeleted : 0;
  h.parent = parent;
  h.replaces = replaces;
  h.size = size;
  h.version = version;
  h.mode = o.mode;
  h.mtime = cfg.clock ? cfg.clock() : 0;
  h.name = name;
  layout::Tags t;
  t.kind = layout::Kind::header;
  t.object = o.id;
  t.version = version;
  t.bytes = static_cast<std::uint16_t>(layout::encode_header(h, scratch));
  t.data_crc = layout::page_checksum({scratch.data(), t.bytes});
  return append(t, scratch);
}

Status Volume::set_header(Object& o, std::uint32_t idx) {
  unref(o.header);
  o.header = idx;
  ref(idx);
  o.mtime = cfg.clock ? cfg.clock() : 0;
  return {};
}

Result<Object*> Volume::create(Object& parent, const std::string& name, FileType type,
                               std::uint32_t mode) {
  if (next_id >= layout::kMaxObjectId) return fail(Errc::no_space, "object ids exhausted");
  if (auto ok = reserve(1, false); !ok) return tl::unexpected(ok.error());
  Object o;
  o.id = next_id;
  o.type = type;
  o.parent = parent.id;
  o.name = name;
  o.mode = mode;
  auto idx = write_header(o, parent.id, name, 0, 0, 0, false);
  if (!idx) return tl::unexpected(idx.error());
  ++next_id;
  const std::uint32_t id = o.id;
  set_header(o, *idx);
  parent.children.emplace(name, id);
  return &(objects[id] = std::move(o));
}

Status Volume::remove(Object& o) {
  if (auto ok = reserve(1, true); !ok) return ok;
  auto tomb = write_header(o, o.parent, o.name, o.version, o.size, 0, true);
  if (!tomb) return tl::unexpected(tomb.error());
  discard(o);
  unref(o.header);
  for (const auto& c : o.chunks)
    unref(c.page);
  ghosts[o.id] = Ghost{*tomb};
  ref(*tomb);
  objects.at(o.parent).children.erase(o.name);
  objects.erase(o.id);
  return {};
}

namespace {

bool inside(const Volume& v, std::uint32_t dir, std::uint32_t ancestor) {
  for (std::size_t steps = 0; steps <= v.objects.size(); ++steps) {
    if (dir == ancestor) return true;
    if (dir == layout::kRootId) return false;
    dir = v.objects.at(dir).parent;
  }
  return true;
}

}  // namespace

Status Volume::rename(std::string_view from, std::string_view to) {
  auto src = lookup(from);
  if (!src) return tl::unexpected(src.error());
  auto dst = lookup_parent(to);
  if (!dst) return tl::unexpected(dst.error());
  Object& o = **src;
  Object& parent = *dst->first;
  const std::string& name = dst->second;
  if (o.id == layout::kRootId) return fail(Errc::invalid_argument, "cannot rename the root");
  if (o.type == FileType::directory && inside(*this, parent.id, o.id)) {
    return fail(Errc::invalid_argument, "cannot move a directory into itself");
  }
  Object* target = nullptr;
  if (auto it = parent.children.find(name); it != parent.children.end()) {
    target = &objects.at(it->second);
    if (target->id == o.id) return {};
    if (target->type == FileType::directory && o.type != FileType::directory) {
      return fail(Errc::is_dir, name);
    }
    if (target->type != FileType::directory && o.type == FileType::directory) {
      return fail(Errc::not_dir, name);
    }
    if (!target->children.empty()) return fail(Errc::not_empty, name);
    if (target->open_count) return fail(Errc::busy, name);
  }
  if (auto ok = reserve(target ? 2 : 1, true); !ok) return ok;
  auto idx = write_header(o, parent.id, name, o.version, o.size, target ? target->id : 0, false);
  if (!idx) return tl::unexpected(idx.error());
  objects.at(o.parent).children.erase(o.name);
  o.parent = parent.id;
  o.name = name;
  set_header(o, *idx);
  if (target) {
    // The target's tombstone: until it is written, o's header (naming the
    // target in `replaces`) already hides the target at mount.
    Object& victim = *target;
    auto tomb =
        write_header(victim, victim.parent, victim.name, victim.version, victim.size, 0, true);
    if (!tomb) return tl::unexpected(tomb.error());
    unref(victim.header);
    for (const auto& c : victim.chunks)
      unref(c.page);
    ghosts[victim.id] = Ghost{*tomb};
    ref(*tomb);
    objects.erase(victim.id);
  }
  parent.children[name] = o.id;
  return {};
}

}  // namespace vmodem::fs
