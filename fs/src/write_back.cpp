#include <algorithm>
#include <iterator>

#include <vmodem/fs/write_back.hpp>

namespace vmodem::fs {
namespace {

bool power_lost(const Status& status) {
  return !status && status.error().code == Errc::power_loss;
}

// True when `path` is `dir` or lies under it.
bool inside(std::string_view path, std::string_view dir) {
  return path == dir ||
         (path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/');
}

// One spelling per file, so "a/b", "/a/b" and "/a//b/" share a cache entry.
std::string normal(std::string_view path) {
  std::string out = "/";
  for (std::size_t at = 0; at < path.size();) {
    const std::size_t end = std::min(path.find('/', at), path.size());
    if (end > at) {
      if (out.size() > 1) out += '/';
      out.append(path.substr(at, end - at));
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

WriteBack::WriteBack(FileSystem& fs, WriteBackConfig config, std::function<std::int64_t()> now_ms)
    : fs_(fs), config_(config), now_ms_(std::move(now_ms)), rng_(config.seed) {}

Status WriteBack::write_file(std::string_view raw_path, std::span<const std::uint8_t> data) {
  const std::string path = normal(raw_path);
  auto found = dirty_.find(path);
  if (found == dirty_.end()) {
    auto st = fs_.stat(path);
    if (!st && st.error().code != Errc::not_found) return tl::unexpected(st.error());
    if (st && st->type != FileType::file) return fail(Errc::is_dir, path);
    // Creating the file is a namespace change: on NAND at once, empty.
    if (!st) {
      if (auto created = fs_.write_file(path, {}); !created) return created;
    }
    found = dirty_.emplace(path, Dirty{{}, now_ms_(), next_order_++}).first;
  }
  dirty_bytes_ -= found->second.data.size();
  found->second.data.assign(data.begin(), data.end());
  dirty_bytes_ += data.size();
  return maybe_flush(relieve_pressure());
}

Result<std::vector<std::uint8_t>> WriteBack::read_file(std::string_view path) {
  if (auto found = dirty_.find(normal(path)); found != dirty_.end()) return found->second.data;
  return fs_.read_file(path);
}

Status WriteBack::mkdir(std::string_view path) {
  return maybe_flush(fs_.mkdir(path));
}

Status WriteBack::rmdir(std::string_view path) {
  return maybe_flush(fs_.rmdir(path));
}

Status WriteBack::unlink(std::string_view path) {
  auto done = fs_.unlink(path);
  if (done) {
    if (auto found = dirty_.find(normal(path)); found != dirty_.end()) {
      dirty_bytes_ -= found->second.data.size();
      dirty_.erase(found);
    }
  }
  return maybe_flush(done);
}

Status WriteBack::rename(std::string_view raw_from, std::string_view raw_to) {
  auto done = fs_.rename(raw_from, raw_to);
  if (!done) return maybe_flush(done);
  const std::string from = normal(raw_from);
  const std::string to = normal(raw_to);
  // What the rename replaced loses its cached content; what moved keeps it.
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    if (inside(it->first, to) && !inside(it->first, from)) {
      dirty_bytes_ -= it->second.data.size();
      it = dirty_.erase(it);
    } else {
      ++it;
    }
  }
  DirtyMap moved;
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    if (inside(it->first, from)) {
      moved.emplace(to + it->first.substr(from.size()), std::move(it->second));
      it = dirty_.erase(it);
    } else {
      ++it;
    }
  }
  dirty_.merge(moved);
  return maybe_flush(done);
}

bool WriteBack::dirty(std::string_view path) const {
  return dirty_.count(normal(path)) != 0;
}

Status WriteBack::write_back(DirtyMap::iterator entry) {
  if (auto written = fs_.write_file(entry->first, entry->second.data); !written) return written;
  dirty_bytes_ -= entry->second.data.size();
  dirty_.erase(entry);
  ++counters_.written_back;
  return {};
}

Status WriteBack::fsync(std::string_view path) {
  auto found = dirty_.find(normal(path));
  if (found == dirty_.end()) return maybe_flush({});
  return maybe_flush(write_back(found));
}

Status WriteBack::write_back_oldest_while(const std::function<bool(const Dirty&)>& due,
                                          std::uint64_t& counter) {
  while (!dirty_.empty()) {
    auto oldest = std::min_element(dirty_.begin(), dirty_.end(), [](const auto& a, const auto& b) {
      return a.second.order < b.second.order;
    });
    if (!due(oldest->second)) return {};
    if (auto written = write_back(oldest); !written) return written;
    ++counter;
  }
  return {};
}

Status WriteBack::sync() {
  std::uint64_t ignored = 0;
  return write_back_oldest_while([](const Dirty&) { return true; }, ignored);
}

Status WriteBack::tick() {
  const std::int64_t now = now_ms_();
  // Not only the oldest: a file dirtied later can be due too.
  std::vector<std::string> due;
  for (const auto& [path, entry] : dirty_)
    if (now - entry.since_ms >= config_.expire_ms) due.push_back(path);
  std::sort(due.begin(), due.end(), [&](const std::string& a, const std::string& b) {
    return dirty_.find(a)->second.order < dirty_.find(b)->second.order;
  });
  for (const std::string& path : due) {
    if (auto written = write_back(dirty_.find(path)); !written) return written;
    ++counters_.by_expiry;
  }
  return relieve_pressure();
}

Status WriteBack::relieve_pressure() {
  return write_back_oldest_while(
      [this](const Dirty&) { return dirty_bytes_ > config_.dirty_limit_bytes; },
      counters_.by_pressure);
}

Status WriteBack::maybe_flush(Status status) {
  if (power_lost(status) || config_.flusher_one_in == 0 || dirty_.empty()) return status;
  if (rng_.below(config_.flusher_one_in) != 0) return status;
  auto victim = std::next(dirty_.begin(), static_cast<std::ptrdiff_t>(rng_.below(dirty_.size())));
  auto flushed = write_back(victim);
  if (flushed) ++counters_.by_flusher;
  // The call's own result stands unless the flusher lost the power.
  return power_lost(flushed) ? flushed : status;
}

}  // namespace vmodem::fs
