// The two JSON files of QuecPython's per-file backup (seed 002, SPEC §6), in
// the one layout vmodem reads and writes (README "QuecPython"):
//
//   checksum.json        [{"name": "/usr/main.py", "crc32": 2874341327}, ...]
//                        in /bak (as shipped) and in /usr (as the application
//                        keeps it). The layout of Quectel's own checker: a
//                        list of objects, names are paths under /usr compared
//                        without regard to case, the file is read with a
//                        16 KiB cap. crc32 is written as a number; read as a
//                        number or a hex string ("ab12cd34", "0xAB12CD34").
//   backup_restore.json  {"enable": true}  (read: true/false or 1/0)
//
// Both are files a user or a power cut may have mangled: parsing never
// throws and says what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace vmodem::sim::quecpython {

// Where the files live, in their own file system (/usr or /bak).
inline constexpr std::string_view kChecksumPath = "/checksum.json";
inline constexpr std::string_view kEnablePath = "/backup_restore.json";
// The checker reads at most this much of checksum.json (checksum_file_max_size).
inline constexpr std::size_t kChecksumMaxBytes = 16 * 1024;
// The prefix of every name: the user file system as the application sees it.
inline constexpr std::string_view kUserPrefix = "/usr";

struct ChecksumEntry {
  std::string name;  // "/usr/<path>" as listed
  std::uint32_t crc32 = 0;

  // The path in the user and backup file systems ("/a/b.py"), a view into
  // `name`. Only for an entry parse_checksum_list returned (its names are
  // valid_name()s): the boot checks every entry without copying its path.
  std::string_view fs_path() const { return std::string_view(name).substr(kUserPrefix.size()); }
};

using ChecksumList = std::vector<ChecksumEntry>;

// The list in `bytes`; an error text for anything else (too large, not JSON,
// not a list of {"name", "crc32"}, a name outside /usr, a CRC out of range).
tl::expected<ChecksumList, std::string> parse_checksum_list(std::span<const std::uint8_t> bytes);

// The file's bytes for `list`, one entry per line (diffs stay readable).
std::string serialize_checksum_list(const ChecksumList& list);

// The entry named `name` ("/usr/..."), compared without regard to ASCII case.
ChecksumEntry* find_entry(ChecksumList& list, std::string_view name);

// "/usr/a/b.py" -> "/a/b.py" (the path in the user and backup file systems);
// nullopt for a name outside /usr or with an empty, "." or ".." component.
// valid_name() says the same without making the path.
bool valid_name(std::string_view name);
std::optional<std::string> fs_path_of(std::string_view name);
// "/a/b.py" -> "/usr/a/b.py".
std::string name_of(std::string_view fs_path);

// The enable flag in backup_restore.json; an error text when it is not
// {"enable": true|false|1|0}.
tl::expected<bool, std::string> parse_enable(std::span<const std::uint8_t> bytes);
std::string serialize_enable(bool enable);

}  // namespace vmodem::sim::quecpython
