// Info records: encoding and the two-lane log (see backup_records.hpp).
#include "backup_records.hpp"

#include <algorithm>
#include <cstring>

#include "backup_data.hpp"

namespace vmodem::fs::backup_detail {

Error from_nand(const nand::Error& error, const char* what) {
  const Errc code = error.code == nand::Errc::power_loss ? Errc::power_loss : Errc::io_error;
  return Error{code, std::string(what) + ": " + error.message(), std::nullopt};
}

void seal(RecordImage& record) {
  record.magic = kRecordMagic;
  record.version = kRecordVersion;
  record.size = sizeof(RecordImage);
  record.crc = crc32({reinterpret_cast<const std::uint8_t*>(&record), offsetof(RecordImage, crc)});
}

bool decode(const std::uint8_t* page, std::size_t size, RecordImage& out) {
  if (size < sizeof(RecordImage)) return false;
  std::memcpy(&out, page, sizeof out);
  if (out.magic != kRecordMagic || out.version != kRecordVersion || out.size != sizeof out)
    return false;
  return out.crc == crc32({page, offsetof(RecordImage, crc)});
}

namespace {

// Word-wise: the info scan checks every page of the partition at each open
// (twice per boot), so this is the hot loop of a boot.
bool blank(const std::vector<std::uint8_t>& bytes) {
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t all = ~std::uint64_t{0};
  for (; n >= 32; p += 32, n -= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    if ((w[0] & w[1] & w[2] & w[3]) != all) return false;
  }
  for (; n > 0; ++p, --n)
    if (*p != 0xFF) return false;
  return true;
}

}  // namespace

Result<InfoLog> InfoLog::open(nand::Device& device) {
  InfoLog log(device);
  const auto& g = device.geometry();
  std::vector<std::uint32_t> good;
  log.bad_blocks_ = hidden_bad_blocks(device);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    auto bad = device.is_bad(b);
    if (!bad) {
      if (bad.error().code == nand::Errc::power_loss)
        return tl::unexpected(from_nand(bad.error(), "info"));
      ++log.bad_blocks_;  // unreadable marker: treat as bad
      continue;
    }
    if (*bad)
      ++log.bad_blocks_;
    else
      good.push_back(b);
  }
  if (good.empty()) return fail(Errc::io_error, "backup info partition has no good block");

  // Two lanes when possible, so the newest record exists in two blocks.
  const std::size_t half = good.size() >= 2 ? good.size() / 2 : good.size();
  log.lanes_.push_back({std::vector<std::uint32_t>(good.begin(), good.begin() + half)});
  if (half < good.size())
    log.lanes_.push_back({std::vector<std::uint32_t>(good.begin() + half, good.end())});

  std::vector<std::uint8_t> page(g.page_size), spare(g.spare_size);
  for (auto& lane : log.lanes_) {
    std::uint64_t lane_best = 0;
    for (std::size_t i = 0; i < lane.blocks.size(); ++i) {
      std::uint32_t last_used = 0;  // pages 0..last_used-1 are not blank
      std::uint64_t block_best = 0;
      for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
        auto r = device.read({lane.blocks[i], p}, page, spare);
        if (!r && r.error().code == nand::Errc::power_loss)
          return tl::unexpected(from_nand(r.error(), "info scan"));
        // Pages are appended in order after an erase, so the first blank
        // page ends the block's log: nothing after it was ever written.
        // (A torn erase can leave stale pages further on; they belong to
        // the lane's oldest records, and a write that meets one skips it.)
        if (r && blank(page) && blank(spare)) break;
        last_used = p + 1;
        RecordImage rec;
        if (r && decode(page.data(), page.size(), rec)) {
          block_best = std::max(block_best, rec.generation);
          if (!log.newest_ || rec.generation > log.newest_->generation) log.newest_ = rec;
        }
      }
      if (block_best > lane_best) {
        lane_best = block_best;
        lane.current = static_cast<int>(i);
        lane.next_page = last_used;
      }
    }
  }
  return log;
}

void InfoLog::retire(Lane& lane, std::size_t index) {
  (void)device_->mark_bad(lane.blocks[index]);  // best effort: the scan also sees FAIL blocks
  ++bad_blocks_;
  lane.blocks.erase(lane.blocks.begin() + static_cast<std::ptrdiff_t>(index));
  lane.current = -1;  // restart the lane in its next block
  lane.next_page = 0;
}

Status InfoLog::write_lane(Lane& lane, const std::vector<std::uint8_t>& page) {
  const auto& g = device_->geometry();
  while (!lane.blocks.empty()) {
    if (lane.current < 0 || lane.next_page >= g.pages_per_block) {
      // Round-robin: the block after the current one (the oldest of the lane).
      const std::size_t next =
          lane.current < 0 ? 0 : (static_cast<std::size_t>(lane.current) + 1) % lane.blocks.size();
      auto erased = device_->erase(lane.blocks[next]);
      if (!erased) {
        if (erased.error().code == nand::Errc::power_loss)
          return tl::unexpected(from_nand(erased.error(), "info erase"));
        retire(lane, next);
        continue;
      }
      lane.current = static_cast<int>(next);
      lane.next_page = 0;
    }
    const nand::PageAddr at{lane.blocks[static_cast<std::size_t>(lane.current)], lane.next_page};
    auto written = device_->program(at, page, {});
    if (written) {
      ++lane.next_page;
      return {};
    }
    switch (written.error().code) {
      case nand::Errc::power_loss:
        return tl::unexpected(from_nand(written.error(), "info program"));
      case nand::Errc::program_fail:
        retire(lane, static_cast<std::size_t>(lane.current));
        break;
      default:
        // A page left non-blank by an earlier cut: skip it.
        ++lane.next_page;
        break;
    }
  }
  return fail(Errc::io_error, "backup info lane has no good block left");
}

Status InfoLog::append(RecordImage record) {
  record.generation = newest_ ? newest_->generation + 1 : 1;
  record.info_bad = bad_blocks_;
  seal(record);
  std::vector<std::uint8_t> page(device_->geometry().page_size, 0xFF);
  std::memcpy(page.data(), &record, sizeof record);
  bool any = false;
  for (auto& lane : lanes_) {
    auto s = write_lane(lane, page);
    if (!s && s.error().code == Errc::power_loss) return s;
    if (s) {
      any = true;
      ++writes_;
    }
  }
  // Lanes that ran out of blocks are dropped.
  std::erase_if(lanes_, [](const Lane& l) { return l.blocks.empty(); });
  if (!any) return fail(Errc::io_error, "no info block accepted the record");
  // bad_blocks_ may have grown while writing; the next record carries it.
  newest_ = record;
  return {};
}

}  // namespace vmodem::fs::backup_detail
