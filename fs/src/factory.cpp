// Factory content: generated NV-item-like files, host tree import.
#include <algorithm>
#include <fstream>

#include <vmodem/fs/factory.hpp>
#include <vmodem/nand/rng.hpp>

namespace vmodem::fs {

namespace {

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::vector<std::uint8_t> text(const std::string& s) {
  return {s.begin(), s.end()};
}

// An RF calibration table: header (magic, band, version, entry count), then
// per-channel gain/offset entries that drift smoothly like measured data.
std::vector<std::uint8_t> rf_table(nand::Rng& rng, std::uint32_t band, std::uint32_t entries) {
  std::vector<std::uint8_t> out;
  put32(out, 0x4C414352);  // "RCAL"
  put32(out, band);
  put32(out, 3);
  put32(out, entries);
  std::int32_t gain = 1000 + static_cast<std::int32_t>(rng.below(500));
  for (std::uint32_t i = 0; i < entries; ++i) {
    gain += static_cast<std::int32_t>(rng.below(21)) - 10;
    put32(out, 600 + band * 100 + i);  // channel
    put32(out, static_cast<std::uint32_t>(gain));
    put32(out, static_cast<std::uint32_t>(rng.below(64)));  // temperature offset
  }
  return out;
}

// An NV item: id, length, payload.
std::vector<std::uint8_t> nv_item(nand::Rng& rng, std::uint32_t id, std::uint32_t len) {
  std::vector<std::uint8_t> out;
  put32(out, id);
  put32(out, len);
  for (std::uint32_t i = 0; i < len; ++i)
    out.push_back(static_cast<std::uint8_t>(rng.below(4) == 0 ? rng.next() : 0));
  return out;
}

}  // namespace

std::vector<FactoryFile> generate_modem_factory(std::uint64_t seed) {
  nand::Rng rng(seed ^ 0x6D6F64656DULL);
  std::vector<FactoryFile> files;
  for (const std::uint32_t band : {1u, 3u, 5u, 8u, 20u, 28u}) {
    files.push_back({"/nv/rfcal/lte_b" + std::to_string(band) + ".bin", rf_table(rng, band, 900)});
  }
  for (const std::uint32_t band : {2u, 3u, 5u, 8u}) {
    files.push_back({"/nv/rfcal/gsm_" + std::to_string(band) + ".bin", rf_table(rng, band, 400)});
  }
  for (std::uint32_t i = 0; i < 40; ++i) {
    const std::uint32_t id = 10 + i * 37;
    files.push_back({"/nv/item_files/" + std::to_string(id), nv_item(rng, id, 64 + 32 * i)});
  }
  files.push_back({"/nv/mbn/mcfg_sw.mbn", nv_item(rng, 0x4D424E, 24000)});
  files.push_back(
      {"/cfg/network.conf", text("[network]\nrat_priority=lte-m,nb-iot,gsm\nscan_mode=auto\n"
                                 "roaming=1\nband_lte_m=1,2,3,4,5,8,12,13,18,19,20,25,26,28\n"
                                 "psm_t3412=" +
                                 std::to_string(3600 + rng.below(3600)) + "\n")});
  files.push_back({"/cfg/apn.conf", text("[apn]\ndefault=iot.example\npdp_type=IPV4V6\n")});
  files.push_back({"/cfg/imei_lock", nv_item(rng, 550, 16)});
  return files;
}

std::vector<FactoryFile> generate_ap_factory(std::uint64_t seed) {
  nand::Rng rng(seed ^ 0x6170667300ULL);
  std::vector<FactoryFile> files;
  files.push_back({"/usb/composition", text("diag,nmea,at,modem,rmnet\n")});
  files.push_back({"/usb/descriptors.bin", nv_item(rng, 0x2C7C, 512)});
  files.push_back({"/usb/vid_pid", text("2c7c:0700\n")});
  files.push_back(
      {"/lwm2m/server.json", text("{\"short_server_id\":123,\"lifetime\":86400,\"binding\":\"UQ\","
                                  "\"uri\":\"coaps://lwm2m.example:5684\"}\n")});
  files.push_back(
      {"/lwm2m/bootstrap.json", text("{\"uri\":\"coaps://bs.example:5684\",\"hold_off\":" +
                                     std::to_string(rng.below(60)) + "}\n")});
  for (std::uint32_t obj = 0; obj < 20; ++obj) {
    files.push_back(
        {"/lwm2m/objects/" + std::to_string(obj) + ".tlv", nv_item(rng, obj, 200 + 150 * obj)});
  }
  files.push_back({"/etc/qcfg.ini", text("[qcfg]\nurc_port=usbat\nris_ring=120\n")});
  files.push_back({"/etc/certs/ca.der", nv_item(rng, 0xCA, 1400)});
  files.push_back({"/etc/firmware_info", nv_item(rng, 1, 30000)});
  return files;
}

std::uint64_t total_bytes(const std::vector<FactoryFile>& files) {
  std::uint64_t n = 0;
  for (const auto& f : files)
    n += f.data.size();
  return n;
}

Status install(FileSystem& fs, const std::vector<FactoryFile>& files) {
  for (const auto& f : files) {
    // Parent directories, shallowest first.
    for (std::size_t at = f.path.find('/', 1); at != std::string::npos;
         at = f.path.find('/', at + 1)) {
      auto made = fs.mkdir(f.path.substr(0, at));
      if (!made && made.error().code != Errc::exists) return made;
    }
    if (auto ok = fs.write_file(f.path, f.data); !ok) return ok;
  }
  return {};
}

Result<std::vector<FactoryFile>> load_host_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<FactoryFile> files;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) return fail(Errc::io_error, dir.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return fail(Errc::io_error, ec.message());
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return fail(Errc::io_error, "cannot read " + it->path().string());
    FactoryFile f;
    f.path = "/" + std::filesystem::relative(it->path(), dir).generic_string();
    f.data.assign(std::istreambuf_iterator<char>(in), {});
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return files;
}

Status populate_from_host(FileSystem& fs, const std::filesystem::path& dir) {
  auto files = load_host_tree(dir);
  if (!files) return tl::unexpected(files.error());
  return install(fs, *files);
}

std::vector<CriticalFile> critical_list(const std::vector<FactoryFile>& files) {
  std::vector<CriticalFile> list;
  for (const auto& f : files)
    list.push_back(CriticalFile{f.path, crc32(f.data), true});
  return list;
}

Result<std::vector<CriticalFile>> checksum_files(FileSystem& fs,
                                                 const std::vector<std::string>& paths) {
  std::vector<CriticalFile> list;
  for (const auto& p : paths) {
    auto data = fs.read_file(p);
    if (!data) return tl::unexpected(data.error());
    list.push_back(CriticalFile{p, crc32(*data), true});
  }
  return list;
}

}  // namespace vmodem::fs
