// Probes 5-9 on the rebuilt index: the object tree, free space and bad
// blocks, critical files, and (deep) the data pages themselves.
#include <algorithm>
#include <tuple>

#include "volume.hpp"

namespace vmodem::fs {

std::string_view probe_name(Probe probe) {
  switch (probe) {
    case Probe::superblock_unreadable:
      return "superblock_unreadable";
    case Probe::bad_format:
      return "bad_format";
    case Probe::metadata_ecc:
      return "metadata_ecc";
    case Probe::torn_log:
      return "torn_log";
    case Probe::object_tree:
      return "object_tree";
    case Probe::file_length:
      return "file_length";
    case Probe::critical_missing:
      return "critical_missing";
    case Probe::critical_checksum:
      return "critical_checksum";
    case Probe::no_space:
      return "no_space";
    case Probe::data_ecc:
      return "data_ecc";
    case Probe::data_checksum:
      return "data_checksum";
  }
  return "unknown";
}

std::string CheckFailure::describe(std::int64_t physical_block) const {
  std::string s = is_data_error() ? "data error " + std::string(name())
                                  : "probe " + std::to_string(number()) + " " + std::string(name());
  if (block >= 0) s += " at block " + std::to_string(block);
  if (block >= 0 && physical_block >= 0) s += " (physical " + std::to_string(physical_block) + ")";
  if (page >= 0) s += " page " + std::to_string(page);
  if (object) s += " object " + std::to_string(object);
  if (!path.empty()) s += " (" + path + ")";
  return s + ": " + message;
}

void add_failure(CheckReport& report, Probe probe, std::string message, std::int64_t block,
                 std::int64_t page, std::uint32_t object, std::string path) {
  report.failures.push_back(
      CheckFailure{probe, block, page, object, std::move(path), std::move(message)});
}

void sort_failures(CheckReport& report) {
  std::stable_sort(report.failures.begin(), report.failures.end(), [](auto& a, auto& b) {
    return std::tie(a.probe, a.block, a.page, a.object) <
           std::tie(b.probe, b.block, b.page, b.object);
  });
}

namespace {

std::int64_t header_block(const Volume& v, const Object& o) {
  return o.header == kNoPage ? -1 : static_cast<std::int64_t>(o.header / v.ppb);
}
std::int64_t header_page(const Volume& v, const Object& o) {
  return o.header == kNoPage ? -1 : static_cast<std::int64_t>(o.header % v.ppb);
}

// Objects whose parent chain does not reach the root within `limit` steps.
void check_cycles(Volume& v, CheckReport& report) {
  for (const auto& [id, o] : v.objects) {
    std::uint32_t at = id;
    std::size_t steps = 0;
    while (at != layout::kRootId && steps++ <= v.objects.size()) {
      auto it = v.objects.find(at);
      if (it == v.objects.end()) break;  // reported as a missing parent
      at = it->second.parent;
    }
    if (steps > v.objects.size()) {
      add_failure(report, Probe::object_tree, "directory cycle", header_block(v, o),
                  header_page(v, o), id);
    }
  }
}

}  // namespace

void Volume::build_tree(CheckReport& report,
                        const std::unordered_map<std::uint32_t, std::uint64_t>& pos) {
  // A rename over an existing name wrote the mover's header (naming the
  // replaced object) before the replaced object's tombstone: a cut between
  // the two leaves both; the newer header wins and the tombstone is redone.
  std::vector<std::uint32_t> replaced;
  for (const auto& [id, o] : objects) {
    if (!o.replaces || !objects.count(o.replaces) || !pos.count(o.replaces)) continue;
    if (pos.at(o.replaces) < pos.at(id)) replaced.push_back(o.replaces);
  }
  for (const std::uint32_t x : replaced) {
    auto it = objects.find(x);
    if (it == objects.end()) continue;
    pending_tombstones.push_back(std::move(it->second));
    objects.erase(it);
  }
  std::vector<std::uint32_t> ids;
  for (const auto& [id, o] : objects)
    ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (const std::uint32_t id : ids) {
    if (id == layout::kRootId) continue;
    Object& o = objects[id];
    auto parent = objects.find(o.parent);
    if (parent == objects.end() || parent->second.type != FileType::directory) {
      add_failure(report, Probe::object_tree,
                  "parent " + std::to_string(o.parent) + " missing or not a directory",
                  header_block(*this, o), header_page(*this, o), id, o.name);
      continue;
    }
    auto [it, fresh] = parent->second.children.emplace(o.name, id);
    if (!fresh) {
      add_failure(report, Probe::object_tree,
                  "duplicate name '" + o.name + "' (objects " + std::to_string(it->second) +
                      " and " + std::to_string(id) + ")",
                  header_block(*this, o), header_page(*this, o), id, path_of(parent->second));
    }
  }
  check_cycles(*this, report);
}

void Volume::check_tree(CheckReport& report) {
  for (const auto& [id, o] : objects) {
    if (id == layout::kRootId) continue;
    auto parent = objects.find(o.parent);
    if (parent == objects.end() || parent->second.type != FileType::directory) {
      add_failure(report, Probe::object_tree, "parent missing or not a directory",
                  header_block(*this, o), header_page(*this, o), id, o.name);
      continue;
    }
    auto child = parent->second.children.find(o.name);
    if (child == parent->second.children.end() || child->second != id) {
      add_failure(report, Probe::object_tree, "object not listed in its directory",
                  header_block(*this, o), header_page(*this, o), id, o.name);
    }
  }
  check_cycles(*this, report);
  for (const auto& [id, o] : objects) {
    if (o.type != FileType::file) continue;
    const std::uint32_t nch = chunks_for(o.size);
    for (std::uint32_t c = 0; c < nch; ++c) {
      if (c >= o.chunks.size() || o.chunks[c].page == kNoPage) {
        add_failure(report, Probe::file_length, "chunk " + std::to_string(c) + " missing", -1, -1,
                    id, path_of(o));
        break;
      }
    }
  }
}

void Volume::check_space(CheckReport& report) {
  const std::uint32_t good = good_blocks(), bad = bad_blocks();
  const auto total = static_cast<std::uint32_t>(blocks.size());
  if (good < cfg.reserve_blocks + 3) {
    add_failure(report, Probe::no_space, "only " + std::to_string(good) + " good blocks");
    return;
  }
  if (std::uint64_t{bad} * 100 > std::uint64_t{cfg.max_bad_block_percent} * total) {
    add_failure(report, Probe::no_space,
                std::to_string(bad) + " of " + std::to_string(total) + " blocks are bad");
    return;
  }
  // The log only grows into erased pages, and reclaiming a block that still
  // holds live pages means copying them into erased pages first. With no
  // block erased, erasable without moving data, or with room left, the file
  // system cannot write a single page (not even the recovery of the mount).
  const bool any = std::any_of(blocks.begin(), blocks.end(), [&](const BlockState& b) {
    return b.use == BlockUse::free_clean || b.use == BlockUse::free_unknown ||
           ((b.use == BlockUse::sealed || b.use == BlockUse::active) && b.live == 0) ||
           (b.use == BlockUse::active && b.written < ppb);
  });
  if (!any) add_failure(report, Probe::no_space, "no erased or erasable block left");
}

void Volume::check_critical(const std::vector<CriticalFile>& files, CheckReport& report) {
  std::vector<std::uint8_t> page(geo.page_size);
  for (const auto& file : files) {
    auto found = lookup(file.path);
    if (!found || (*found)->type != FileType::file) {
      add_failure(report, Probe::critical_missing, "critical file missing", -1, -1, 0, file.path);
      continue;
    }
    Object& o = **found;
    if (!file.check_crc) continue;
    // Read and checksummed a page at a time: no buffer of the whole file
    // (the RF calibration is 84 KB, checked at every boot).
    std::uint32_t crc = 0;
    Status read;
    for (std::uint64_t at = 0; at < o.visible_size() && read;) {
      const auto n = std::min<std::uint64_t>(page.size(), o.visible_size() - at);
      auto got = read_at(o, at, {page.data(), static_cast<std::size_t>(n)});
      if (!got) {
        read = tl::unexpected(got.error());
      } else {
        crc = crc32_update(crc, {page.data(), *got});
        at += *got;
      }
    }
    if (!read) {
      add_failure(report, Probe::critical_checksum, "unreadable: " + read.error().message(), -1, -1,
                  o.id, file.path);
      continue;
    }
    if (crc != file.crc32) {
      add_failure(report, Probe::critical_checksum,
                  "crc32 " + std::to_string(crc) + ", expected " + std::to_string(file.crc32), -1,
                  -1, o.id, file.path);
    }
  }
}

void Volume::check_data(CheckReport& report) {
  std::vector<std::uint8_t> main(geo.page_size);
  std::uint8_t spare[nand::kMaxSpareSize];
  for (const auto& [id, o] : objects) {
    for (const auto& c : o.chunks) {
      if (c.page == kNoPage) continue;
      auto info = dev.read(addr(c.page), main, {spare, geo.spare_size});
      layout::Tags t;
      if (!info) {
        if (info.error().code == nand::Errc::power_loss) {
          (void)device_error(info.error());
          return;
        }
        add_failure(report, Probe::data_ecc, "live data page uncorrectable", c.page / ppb,
                    c.page % ppb, id, path_of(o));
      } else if (layout::decode_tags({spare, geo.spare_size}, geo.page_size, t) !=
                     layout::TagState::valid ||
                 layout::page_checksum({main.data(), t.bytes}) != t.data_crc) {
        add_failure(report, Probe::data_checksum, "data page checksum wrong", c.page / ppb,
                    c.page % ppb, id, path_of(o));
      }
    }
  }
}

}  // namespace vmodem::fs
