// Settings a real module keeps in NV (AT&W profile, AT+QCFG, AT+QICSGP,
// AT+CGDCONT, AT+QURCCFG, ...), stored as one JSON document on the modem file
// system so they survive resets, power cuts and daemon restarts — and are
// lost, like on a real module, when that file system is restored or rebuilt.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <vmodem/fs/filesystem.hpp>

namespace vmodem::sim {

class NvStore {
 public:
  static constexpr const char* kPath = "/nv/vmodem/at_settings.json";

  // Loads the document from `modem_fs` (nullptr or missing file: empty).
  // Later set() calls write through to it until detach().
  void attach(fs::FileSystem* modem_fs);
  void detach() { fs_ = nullptr; }

  // The value stored under `key`, or `fallback`.
  nlohmann::json get(const std::string& key, const nlohmann::json& fallback = nullptr) const;
  // Stores and writes the document (atomically: the file system replaces the
  // file whole). Returns false when the write failed (no file system, power
  // loss); the value is still kept in memory for this boot.
  bool set(const std::string& key, nlohmann::json value);

 private:
  nlohmann::json doc_ = nlohmann::json::object();
  fs::FileSystem* fs_ = nullptr;
};

}  // namespace vmodem::sim
