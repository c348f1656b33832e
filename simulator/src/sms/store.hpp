// The module's short-message storages and what it keeps about SMS across
// power cycles: "SM" (the SIM's, 50 messages) and "ME" (the module's own,
// 255), the preferred storages (AT+CPMS) and the service centre (AT+CSCA).
//
// Kept as one JSON document on the modem file system (kPath), beside the NV
// settings but in its own file: a full store is ~80 KB of PDUs, which the NV
// settings file (written whole on every AT setting) should not carry. It is
// written whole on every change, so stored messages survive resets, power
// cuts and daemon restarts, and are lost, as NV is, when that file system is
// rebuilt. The simulated SIM has no memory of its own, so "SM" lives here
// too (ctl sim-insert --fresh does not empty it).
//
//   {"cpms": ["SM","SM","SM"], "csca": {"number": "+...", "toa": 145},
//    "SM": {"<index>": {"stat": 0-3, "pdu": "<hex>"}, ...}, "ME": {...}}
//
// Each PDU is the one AT+CMGR prints in PDU mode (SCA field first). The file
// is hostile input: entries that do not validate (bad index, status, hex, or
// a PDU that does not decode) are dropped and reported; the rest load.
//
// Indices start at 0, as on Quectel modules (+CMTI: "SM",0).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/fs/shared.hpp>

#include "sms/pdu.hpp"

namespace vmodem::sim::sms {

enum class Memory : std::uint8_t { sm, me };
inline constexpr std::array<Memory, 2> kMemories{Memory::sm, Memory::me};
std::string_view to_string(Memory m);  // "SM", "ME"
std::optional<Memory> memory_from(std::string_view name);
int capacity(Memory m);  // SM 50, ME 255

// 27.005 <stat>: PDU mode 0-3, text mode "REC UNREAD" ...
enum class Status : std::uint8_t { rec_unread = 0, rec_read = 1, sto_unsent = 2, sto_sent = 3 };
std::string_view to_string(Status s);
std::optional<Status> status_from(std::string_view text);

struct Stored {
  Status status = Status::rec_unread;
  Bytes pdu;  // SMS-DELIVER (REC ...) or SMS-SUBMIT (STO ...), SCA field first
};

class MessageStore {
 public:
  static constexpr const char* kPath = "/nv/vmodem/sms.json";

  // Loads the file from `modem_fs` (nullptr or no file: empty). Returns a
  // line per dropped entry. Later changes write through until detach().
  std::vector<std::string> attach(fs::SharedFileSystem* modem_fs);
  void detach() { fs_ = nullptr; }

  int used(Memory m) const { return static_cast<int>(slots(m).size()); }
  const Stored* get(Memory m, int index) const;
  // The lowest free index, or nullopt when full.
  std::optional<int> add(Memory m, Stored message);
  bool set_status(Memory m, int index, Status status);
  bool erase(Memory m, int index);
  // AT+CMGD delflag 1-4: removes read (1), + sent (2), + unsent (3), all (4).
  void erase_by_flag(Memory m, int delflag);
  const std::map<int, Stored>& slots(Memory m) const { return m == Memory::sm ? sm_ : me_; }

  // AT+CPMS <mem1> (read/delete), <mem2> (write/send), <mem3> (received).
  const std::array<Memory, 3>& preferred() const { return cpms_; }
  void set_preferred(const std::array<Memory, 3>& mems);

  // AT+CSCA; empty number: the default service centre.
  const std::optional<Address>& service_centre() const { return csca_; }
  void set_service_centre(std::optional<Address> sca);

 private:
  std::map<int, Stored>& slots_mut(Memory m) { return m == Memory::sm ? sm_ : me_; }
  bool save();

  std::map<int, Stored> sm_, me_;
  std::array<Memory, 3> cpms_{Memory::sm, Memory::sm, Memory::sm};
  std::optional<Address> csca_;
  fs::SharedFileSystem* fs_ = nullptr;
};

}  // namespace vmodem::sim::sms
