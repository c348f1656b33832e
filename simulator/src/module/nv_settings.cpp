#include "module/nv_settings.hpp"

namespace vmodem::sim {

std::vector<NvProblem> NvSettings::attach(fs::SharedFileSystem* modem_fs) {
  fs_ = modem_fs;
  values_ = {};
  unknown_ = nlohmann::json::object();
  if (!fs_) return {};
  auto bytes = fs_->lock()->read_file(kPath);
  if (!bytes) {
    // No file: nothing was ever saved. Anything else is a damaged file,
    // which reads as defaults, as a module falls back to default NV items.
    if (bytes.error().code == fs::Errc::not_found) return {};
    return {{"", "cannot be read: " + bytes.error().message()}};
  }
  auto decoded = decode_nv_settings({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
  values_ = std::move(decoded.values);
  unknown_ = std::move(decoded.unknown);
  return std::move(decoded.problems);
}

bool NvSettings::update(const std::function<void(NvValues&)>& edit) {
  edit(values_);
  if (!fs_) return false;
  const std::string text = encode_nv_settings(values_, unknown_);
  const auto fs = fs_->lock();
  (void)fs->mkdir("/nv");
  (void)fs->mkdir("/nv/vmodem");
  return fs->write_file(kPath, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})
      .has_value();
}

}  // namespace vmodem::sim
