#include "sms/store.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "hex.hpp"

namespace vmodem::sim::sms {

std::string_view to_string(Memory m) {
  return m == Memory::sm ? "SM" : "ME";
}

std::optional<Memory> memory_from(std::string_view name) {
  if (name == "SM") return Memory::sm;
  if (name == "ME") return Memory::me;
  return std::nullopt;
}

int capacity(Memory m) {
  return m == Memory::sm ? 50 : 255;
}

std::string_view to_string(Status s) {
  switch (s) {
    case Status::rec_unread:
      return "REC UNREAD";
    case Status::rec_read:
      return "REC READ";
    case Status::sto_unsent:
      return "STO UNSENT";
    case Status::sto_sent:
      return "STO SENT";
  }
  return "REC UNREAD";
}

std::optional<Status> status_from(std::string_view text) {
  for (const Status s :
       {Status::rec_unread, Status::rec_read, Status::sto_unsent, Status::sto_sent}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

namespace {

bool pdu_fits(Status status, const Bytes& pdu) {
  const bool received = status == Status::rec_unread || status == Status::rec_read;
  return received ? decode_deliver(pdu).has_value() : decode_submit(pdu).has_value();
}

std::optional<Address> read_csca(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("number") || !j["number"].is_string() || !j.contains("toa") ||
      !j["toa"].is_number_unsigned())
    return std::nullopt;
  const auto toa = j["toa"].get<std::uint64_t>();
  if (toa > 255) return std::nullopt;
  return address_from_text(j["number"].get<std::string>(), static_cast<std::uint8_t>(toa));
}

}  // namespace

std::vector<std::string> MessageStore::attach(fs::SharedFileSystem* modem_fs) {
  fs_ = modem_fs;
  sm_.clear();
  me_.clear();
  cpms_ = {Memory::sm, Memory::sm, Memory::sm};
  csca_.reset();
  if (!fs_) return {};
  auto bytes = fs_->lock()->read_file(kPath);
  if (!bytes) {
    if (bytes.error().code == fs::Errc::not_found) return {};
    return {"cannot be read: " + bytes.error().message()};
  }
  const auto doc = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!doc.is_object()) return {"not a JSON object: every message dropped"};
  std::vector<std::string> problems;
  if (doc.contains("cpms")) {
    const auto& c = doc["cpms"];
    std::array<Memory, 3> mems{};
    bool ok = c.is_array() && c.size() == 3;
    for (std::size_t i = 0; ok && i < 3; ++i) {
      const auto m = c[i].is_string() ? memory_from(c[i].get<std::string>()) : std::nullopt;
      ok = m.has_value();
      if (m) mems.at(i) = *m;
    }
    if (ok) {
      cpms_ = mems;
    } else {
      problems.emplace_back("cpms: not three of \"SM\"/\"ME\"");
    }
  }
  if (doc.contains("csca")) {
    csca_ = read_csca(doc["csca"]);
    if (!csca_) problems.emplace_back("csca: not a service-centre address");
  }
  for (const Memory m : kMemories) {
    const std::string name(to_string(m));
    if (!doc.contains(name)) continue;
    if (!doc[name].is_object()) {
      problems.push_back(name + ": not an object");
      continue;
    }
    for (const auto& [key, entry] : doc[name].items()) {
      int index = -1;
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      const bool index_ok =
          ec == std::errc() && end == key.data() + key.size() && index >= 0 && index < capacity(m);
      const bool shape_ok = entry.is_object() && entry.contains("stat") &&
                            entry["stat"].is_number_unsigned() && entry["stat"].get<int>() <= 3 &&
                            entry.contains("pdu") && entry["pdu"].is_string();
      const auto raw = shape_ok ? from_hex(entry["pdu"].get<std::string>()) : std::nullopt;
      const auto status = shape_ok ? static_cast<Status>(entry["stat"].get<int>()) : Status{};
      const Bytes pdu = raw ? Bytes(raw->begin(), raw->end()) : Bytes{};
      if (!index_ok || !raw || !pdu_fits(status, pdu)) {
        std::string problem = name;
        problem += "." + key + ": not a valid message, dropped";
        problems.push_back(std::move(problem));
        continue;
      }
      slots_mut(m)[index] = Stored{status, pdu};
    }
  }
  return problems;
}

const Stored* MessageStore::get(Memory m, int index) const {
  const auto& s = slots(m);
  const auto it = s.find(index);
  return it == s.end() ? nullptr : &it->second;
}

std::optional<int> MessageStore::add(Memory m, Stored message) {
  auto& s = slots_mut(m);
  for (int index = 0; index < capacity(m); ++index) {
    if (s.contains(index)) continue;
    s[index] = std::move(message);
    (void)save();
    return index;
  }
  return std::nullopt;
}

bool MessageStore::set_status(Memory m, int index, Status status) {
  auto& s = slots_mut(m);
  const auto it = s.find(index);
  if (it == s.end()) return false;
  if (it->second.status != status) {
    it->second.status = status;
    (void)save();
  }
  return true;
}

bool MessageStore::erase(Memory m, int index) {
  if (slots_mut(m).erase(index) == 0) return false;
  (void)save();
  return true;
}

void MessageStore::erase_by_flag(Memory m, int delflag) {
  auto& s = slots_mut(m);
  std::erase_if(s, [delflag](const auto& entry) {
    switch (entry.second.status) {
      case Status::rec_read:
        return delflag >= 1;
      case Status::sto_sent:
        return delflag >= 2;
      case Status::sto_unsent:
        return delflag >= 3;
      case Status::rec_unread:
        return delflag >= 4;
    }
    return false;
  });
  (void)save();
}

void MessageStore::set_preferred(const std::array<Memory, 3>& mems) {
  if (mems == cpms_) return;
  cpms_ = mems;
  (void)save();
}

void MessageStore::set_service_centre(std::optional<Address> sca) {
  csca_ = std::move(sca);
  (void)save();
}

bool MessageStore::save() {
  if (!fs_) return false;
  nlohmann::json doc = nlohmann::json::object();
  doc["cpms"] = {to_string(cpms_[0]), to_string(cpms_[1]), to_string(cpms_[2])};
  if (csca_) doc["csca"] = {{"number", csca_->number}, {"toa", csca_->toa}};
  for (const Memory m : kMemories) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& [index, message] : slots(m)) {
      const std::string hex =
          to_hex({reinterpret_cast<const char*>(message.pdu.data()), message.pdu.size()});
      entries[std::to_string(index)] = {{"stat", static_cast<int>(message.status)}, {"pdu", hex}};
    }
    doc[std::string(to_string(m))] = std::move(entries);
  }
  const std::string text = doc.dump();
  const auto fs = fs_->lock();
  (void)fs->mkdir("/nv");
  (void)fs->mkdir("/nv/vmodem");
  return fs->write_file(kPath, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})
      .has_value();
}

}  // namespace vmodem::sim::sms
