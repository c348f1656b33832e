// Shared pieces of the Quectel file commands (file_commands.cpp,
// file_transfer.cpp, file_handles.cpp): the per-module state (open handles),
// argument parsing, file-name rules, the XOR checksum and the mapping of
// file-system errors to +CME codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <vmodem/at/command.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/fs/shared.hpp>
#include <vmodem/simulator/file_commands.hpp>

namespace vmodem::sim::files {

// Quectel file-system error codes (+CME ERROR: <n>), SPEC §3.
enum Cme : int {
  kInvalidInput = 400,
  kLargerThanFile = 401,
  kReadZero = 402,
  kDriveFull = 403,
  kNotFound = 405,
  kInvalidName = 406,
  kExists = 407,
  kWriteFail = 409,
  kOpenFail = 410,
  kReadFail = 411,
  kTooManyOpen = 413,
  kReadOnly = 414,
  kInvalidHandle = 416,
  kListFail = 417,
  kDeleteFail = 418,
  kDiskInfoFail = 419,
  kNoSpace = 420,
  kTimeout = 421,
  kTooLarge = 423,
  kInvalidParameter = 425,
  kAlreadyOpen = 426,
};

// Uploads are written under this directory and renamed into the root when
// complete. File names cannot contain '/', so the host can never name it.
inline constexpr std::string_view kUploadDir = ".qfupl";
// Removes the temporary files of uploads a power cut interrupted (they hold
// no committed data, only space): the boot calls it once the file system is
// mounted, an upload before it starts. Files open by a running upload refuse
// to go and are kept. False when the directory does not exist (nothing is
// written then: a boot of a module that never uploaded changes no page).
bool remove_stale_uploads(fs::FileSystem& fs);
// Longest <filename> the Quectel FILE manuals allow (the FS limit may be lower).
inline constexpr std::size_t kMaxNameBytes = 80;
// Handles +QFOPEN hands out at once, module-wide.
inline constexpr std::size_t kMaxOpenHandles = 16;

// A file opened by AT+QFOPEN.
struct OpenFile {
  fs::SharedFileSystem* fs = nullptr;  // the instance the handle belongs to
  fs::Handle handle = 0;
  std::string name;
  int mode = 0;  // 0 read/write, 1 truncated read/write, 2 read-only
};

// One module's file-command state. Handlers run on the module's AT executor,
// one at a time, so the state needs no lock of its own.
struct FileState {
  FileCommandContext context;
  std::map<std::uint32_t, OpenFile> handles;  // AT handle -> file
  std::uint32_t next_handle = 1;
  // Bumped by FileHandles::reset(): a transfer started before a reset must not
  // touch the file system afterwards (the instance may be gone).
  std::uint64_t generation = 0;
  std::uint64_t next_upload = 1;  // temporary upload names
  // Free space promised to running transfers and not yet written (see
  // SpaceReservation). Zeroed by reset(): nothing runs after a power loss.
  std::uint64_t reserved = 0;

  // The mounted AP file system, or nullptr.
  fs::SharedFileSystem* fs() const { return context.ap_fs ? context.ap_fs() : nullptr; }
  // True when `name` is open through a +QFOPEN handle on `fs`.
  bool is_open(const fs::SharedFileSystem* on, std::string_view name) const;
  // Drops every handle (closing it when `fs` is still the instance it was opened
  // on and alive) and invalidates running transfers.
  void reset();
};

// A file system instance captured by a running transfer (upload, download,
// QFWRITE), usable only while nothing replaced it.
struct FsTicket {
  std::shared_ptr<FileState> state;
  fs::SharedFileSystem* fs = nullptr;
  std::uint64_t generation = 0;

  static FsTicket take(std::shared_ptr<FileState> state, fs::SharedFileSystem* fs);
  // The instance, or nullptr after a reset or a remount.
  fs::SharedFileSystem* live() const;
};

// Free space promised to one running transfer (AT+QFUPL, AT+QFWRITE) from
// the moment it is accepted, so that two ports cannot both pass the
// free-space check and then run out half-way. It holds what was announced and
// not yet written (written bytes show in the file system's own free space),
// and is given back at the end, on a failure, on abort (destruction) and, for
// every transfer at once, by FileState::reset() on a power loss.
class SpaceReservation {
 public:
  SpaceReservation() = default;
  ~SpaceReservation() { release(); }
  SpaceReservation(SpaceReservation&& other) noexcept;
  SpaceReservation& operator=(SpaceReservation&& other) noexcept;
  SpaceReservation(const SpaceReservation&) = delete;
  SpaceReservation& operator=(const SpaceReservation&) = delete;

  // Reserves `bytes` of `fs` (the caller holds its lock), or a CME code:
  // 403 (drive full) when the free space left by the other running transfers
  // is smaller, 419 when the free space cannot be read.
  static tl::expected<SpaceReservation, int> take(const std::shared_ptr<FileState>& state,
                                                  fs::FileSystem& fs, std::uint64_t bytes);
  // `bytes` of the transfer reached the file system.
  void written(std::uint64_t bytes);
  void release();

 private:
  std::shared_ptr<FileState> state_;
  std::uint64_t generation_ = 0;
  std::uint64_t held_ = 0;
};

// Free bytes of `fs` that no running transfer has been promised (the caller
// holds its lock), or the file-system error.
fs::Result<std::uint64_t> unreserved_free_bytes(const FileState& state, fs::FileSystem& fs);

// XOR of the data as big-endian 16-bit words; an odd last byte is the high
// half of a final word (Quectel FILE manuals, note on <checksum>). Fed in
// pieces of any length.
class Checksum {
 public:
  void add(std::span<const std::uint8_t> bytes);
  std::uint16_t value() const;
  // Lower-case hex without leading zeros ("613e", "0"), as modules print it.
  std::string hex() const;

 private:
  std::uint16_t sum_ = 0;
  std::optional<std::uint8_t> high_;  // first byte of an unfinished word
};

using Expect = tl::expected<std::int64_t, int>;

// An integer parameter in [low, high]; `fallback` when omitted (nullopt makes
// it required). Errors: 400 when missing or not an integer, 425 out of range.
Expect int_arg(const at::Command& command, std::size_t index, std::int64_t low, std::int64_t high,
               std::optional<std::int64_t> fallback);
// 400 when the command has more than `count` parameters.
bool too_many_args(const at::Command& command, std::size_t count);

// A file name as the host wrote it: a string, "UFS:" prefix stripped, flat
// (no '/', '\\', ':', NUL or control bytes, not "." / "..", not the upload
// directory), at most kMaxNameBytes and the FS name limit. With `wildcards`,
// '*' and '?' are allowed (a pattern). Error: 406 (400 if not a string).
tl::expected<std::string, int> parse_name(const at::Argument& argument, bool wildcards,
                                          std::uint32_t max_name);

// `*` matches any run of characters, `?` exactly one.
bool glob_match(std::string_view pattern, std::string_view name);

// The +CME code for a file-system error; `fallback` (the command's generic
// failure) for errors without a closer code (power_loss, io_error among them).
int cme_for(const fs::Error& error, int fallback);

// Root path of a flat file name.
std::string path_of(std::string_view name);

using Bound = void (*)(const std::shared_ptr<FileState>& state, at::Call& call);
// A registry handler that runs `handler` with the module's state.
at::Handler bind(const std::shared_ptr<FileState>& state, Bound handler);
// A handler that prints `line` (when not empty) and OK: the test forms.
at::Handler answer(std::string line);

// Command groups (one file each).
void register_listing_commands(at::Registry& registry, const std::shared_ptr<FileState>& state);
void register_transfer_commands(at::Registry& registry, const std::shared_ptr<FileState>& state);
void register_handle_commands(at::Registry& registry, const std::shared_ptr<FileState>& state);

}  // namespace vmodem::sim::files
