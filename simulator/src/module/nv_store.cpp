#include "module/nv_store.hpp"

#include <mutex>

namespace vmodem::sim {

void NvStore::attach(fs::FileSystem* modem_fs) {
  fs_ = modem_fs;
  doc_ = nlohmann::json::object();
  if (!fs_) return;
  std::lock_guard lock(fs_->mutex());
  auto bytes = fs_->read_file(kPath);
  if (!bytes) return;
  auto parsed = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  // A damaged settings file reads as defaults, as a module falls back to
  // default NV items.
  if (parsed.is_object()) doc_ = std::move(parsed);
}

nlohmann::json NvStore::get(const std::string& key, const nlohmann::json& fallback) const {
  const auto it = doc_.find(key);
  return it == doc_.end() ? fallback : *it;
}

bool NvStore::set(const std::string& key, nlohmann::json value) {
  doc_[key] = std::move(value);
  if (!fs_) return false;
  const std::string text = doc_.dump();
  std::lock_guard lock(fs_->mutex());
  (void)fs_->mkdir("/nv");
  (void)fs_->mkdir("/nv/vmodem");
  return fs_->write_file(kPath, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})
      .has_value();
}

}  // namespace vmodem::sim
