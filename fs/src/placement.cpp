// map_pages: the live pages of a partition, block by block, from a
// read-only scan (placement.hpp).
#include <vmodem/fs/placement.hpp>

#include "volume.hpp"

namespace vmodem::fs {

namespace {

PageRole role_of(layout::Kind kind) {
  switch (kind) {
    case layout::Kind::super:
      return PageRole::superblock;
    case layout::Kind::header:
      return PageRole::header;
    default:
      return PageRole::data;
  }
}

LivePage describe(Volume& v, std::uint32_t idx) {
  const PageState& p = v.pages[idx];
  LivePage live;
  live.page = idx % v.ppb;
  live.role = role_of(p.kind);
  if (live.role == PageRole::superblock) return live;
  live.object = p.object;
  live.chunk = p.chunk;
  if (auto it = v.objects.find(p.object); it != v.objects.end()) {
    live.directory = it->second.type == FileType::directory;
    live.path = v.path_of(it->second);
  }
  return live;
}

}  // namespace

Result<Placement> map_pages(nand::Device& device, const Config& config) {
  Volume v(device, config);
  v.read_only = true;
  CheckReport report;
  if (auto ok = v.scan(report); !ok) return tl::unexpected(ok.error());
  if (v.dead) return fail(Errc::power_loss, "power lost during the scan");
  if (v.super_page == kNoPage) {
    sort_failures(report);
    Error error{Errc::check_failed, "no readable superblock", std::nullopt};
    if (!report.ok()) error.check = report.failures.front();
    return tl::unexpected(error);
  }
  Placement out;
  out.pages_per_block = v.ppb;
  out.superblock_block = v.super_page / v.ppb;
  out.superblock_page = v.super_page % v.ppb;
  out.blocks.resize(v.blocks.size());
  for (std::uint32_t b = 0; b < v.blocks.size(); ++b) {
    BlockPlacement& block = out.blocks[b];
    block.block = b;
    block.bad = v.blocks[b].use == BlockUse::bad;
    block.written = v.blocks[b].written;
    for (std::uint32_t p = 0; p < block.written; ++p) {
      const std::uint32_t idx = b * v.ppb + p;
      if (v.pages[idx].refs) block.live.push_back(describe(v, idx));
    }
  }
  return out;
}

}  // namespace vmodem::fs
