// Settings a real module keeps in NV (AT&W profile, +CSCS, +CGDCONT/+QICSGP
// contexts, +QCFG, +QURCCFG, +CTZU), typed, stored as one JSON document on
// the modem file system so they survive resets, power cuts and daemon
// restarts — and are lost, like on a real module, when that file system is
// restored or rebuilt.
//
// The file (kPath) is written whole on every change (the file system
// replaces it atomically). Its keys are those of the untyped store it
// replaces, so existing state directories keep their settings:
//
//   "profile"      {"echo": bool, "verbose": bool, "quiet": bool, "cmee": 0-2}
//   "cscs"         "GSM" | "IRA" | "UCS2"
//   "contexts"     {"<cid 1-16>": {"type": 1-3, "apn": B, "user": B,
//                                  "password": B, "auth": 0-3}, ...}
//   "qcfg/<name>"  integer in the item's range (kQcfgItems)
//   "urcport"      "usbat" | "usbmodem" | "uart1"
//   "ctzu"         0-3
//   "sim"          {"pin_enabled": bool, "pin": "<4-8 digits>",
//                   "pin_retries": 0-3, "puk_retries": 0-10}
//
// B is a byte string as a host sent it (any bytes, NUL included): a JSON
// string when the bytes are valid UTF-8, else {"hex": "<2 hex digits per
// byte>"}. Both forms are accepted for every B field when reading, so the
// encoding is lossless and a dump of the document can never fail.
//
// The file is hostile input (a host can write it through a FUSE mount or the
// image tools): it is validated field by field when loaded. A field of the
// wrong type, out of range or too long falls back to its default and is
// reported as an NvProblem; the other fields keep their values. Keys this
// version does not know are kept and written back unchanged.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <vmodem/fs/shared.hpp>

namespace vmodem::sim {

// Documented maxima of AT+QICSGP (Quectel BG95/BG96 TCP/IP application
// note: <APN> 100 bytes, <username> and <password> 127 bytes each); the APN
// limit is also 3GPP TS 23.003's and applies to AT+CGDCONT.
inline constexpr std::size_t kMaxApnBytes = 100;
inline constexpr std::size_t kMaxPdpUserBytes = 127;
inline constexpr std::size_t kMaxPdpPasswordBytes = 127;
inline constexpr int kMaxCid = 16;

// One PDP context (AT+CGDCONT / AT+QICSGP). Strings hold raw bytes.
struct PdpContext {
  int type = 1;  // 1 IP (IPv4), 2 IPV6, 3 IPV4V6
  std::string apn;
  std::string user;
  std::string password;
  int auth = 0;  // 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP

  friend bool operator==(const PdpContext&, const PdpContext&) = default;
};

// Port settings saved by AT&W. A member left empty (a damaged file) means
// the port's own power-on default.
struct AtProfile {
  std::optional<bool> echo;
  std::optional<bool> verbose;
  std::optional<bool> quiet;
  std::optional<int> cmee;  // 0-2

  friend bool operator==(const AtProfile&, const AtProfile&) = default;
};

// The AT+QCFG integer items: the index in kQcfgItems is the Qcfg value.
enum class Qcfg : std::uint8_t { fota_cid, nwscanmode, iotopmode, servicedomain, psm_urc, apready };

struct QcfgItem {
  Qcfg id;
  std::string_view name;  // as in AT+QCFG="<name>"; stored under "qcfg/<name>"
  int fallback;
  int min;
  int max;
};

inline constexpr std::array<QcfgItem, 6> kQcfgItems{{
    {Qcfg::fota_cid, "fota/cid", 1, 1, kMaxCid},
    {Qcfg::nwscanmode, "nwscanmode", 0, 0, 3},
    {Qcfg::iotopmode, "iotopmode", 2, 0, 2},
    {Qcfg::servicedomain, "servicedomain", 1, 1, 2},
    {Qcfg::psm_urc, "psm/urc", 0, 0, 1},
    {Qcfg::apready, "apready", 0, 0, 1},
}};

// The item named `name`, or nullptr.
const QcfgItem* find_qcfg(std::string_view name);

// The SIM card as the host changed it (AT+CLCK="SC", AT+CPWD, AT+CPIN with a
// PUK, wrong PINs): the card keeps these across power cycles. Kept here, in
// the module's NV, since the simulated card has no memory of its own. Empty
// members are the card as the profile issued it (Profile::sim).
inline constexpr int kSimPinRetries = 3;
inline constexpr int kSimPukRetries = 10;
struct SimNv {
  std::optional<bool> pin_enabled;
  std::optional<std::string> pin;  // 4-8 digits
  int pin_retries = kSimPinRetries;
  int puk_retries = kSimPukRetries;

  friend bool operator==(const SimNv&, const SimNv&) = default;
};

struct NvValues {
  std::optional<AtProfile> profile;  // empty until AT&W
  std::string cscs = "GSM";
  std::map<int, PdpContext> contexts;  // by cid; the factory context 1 is added by its reader
  std::array<int, kQcfgItems.size()> qcfg = [] {
    std::array<int, kQcfgItems.size()> out{};
    for (std::size_t i = 0; i < kQcfgItems.size(); ++i)
      out[i] = kQcfgItems[i].fallback;
    return out;
  }();
  std::string urcport = "usbat";
  int ctzu = 1;
  SimNv sim;

  int qcfg_value(Qcfg id) const { return qcfg[static_cast<std::size_t>(id)]; }
  void set_qcfg(Qcfg id, int value) { qcfg[static_cast<std::size_t>(id)] = value; }

  friend bool operator==(const NvValues&, const NvValues&) = default;
};

// A field of the file that did not validate and fell back to its default.
struct NvProblem {
  std::string key;  // "urcport", "contexts.2.apn", "profile.echo"; "" = the whole file
  std::string reason;

  friend bool operator==(const NvProblem&, const NvProblem&) = default;
};

// The document's text read into values: never throws, whatever `text` holds.
struct NvDecoded {
  NvValues values;
  nlohmann::json unknown = nlohmann::json::object();  // keys this version does not know
  std::vector<NvProblem> problems;
};
NvDecoded decode_nv_settings(std::string_view text);
// The document for `values` (+ the unknown keys). Always valid UTF-8 JSON.
std::string encode_nv_settings(const NvValues& values, const nlohmann::json& unknown);

class NvSettings {
 public:
  static constexpr const char* kPath = "/nv/vmodem/at_settings.json";

  // Loads and validates the file from `modem_fs` (nullptr or no file:
  // defaults). Returns the fields that fell back to their defaults; the
  // caller reports them. Later update() calls write through to `modem_fs`
  // until detach(). Takes the file system's mutex.
  std::vector<NvProblem> attach(fs::SharedFileSystem* modem_fs);
  void detach() { fs_ = nullptr; }

  const NvValues& values() const { return values_; }

  // Applies `edit` to the values and writes the file whole. Returns false
  // when the write failed (no file system, power loss); the change is still
  // kept in memory for this boot. Takes the file system's mutex.
  bool update(const std::function<void(NvValues&)>& edit);

 private:
  NvValues values_;
  nlohmann::json unknown_ = nlohmann::json::object();
  fs::SharedFileSystem* fs_ = nullptr;
};

}  // namespace vmodem::sim
