#include "file_support.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <utility>

namespace vmodem::sim::files {

bool FileState::is_open(const fs::SharedFileSystem* on, std::string_view name) const {
  for (const auto& [id, file] : handles) {
    if (file.fs == on && file.name == name) return true;
  }
  return false;
}

void FileState::reset() {
  ++generation;
  fs::SharedFileSystem* current = fs();
  for (auto& [id, file] : handles) {
    // Only an instance the module still hands out is known to be alive; any
    // other pointer may dangle (unmounted, powered off).
    if (current == nullptr || file.fs != current) continue;
    const auto held = current->lock();
    if (held->alive()) (void)held->close(file.handle);
  }
  handles.clear();
  reserved = 0;
}

SpaceReservation::SpaceReservation(SpaceReservation&& other) noexcept
    : state_(std::move(other.state_)), generation_(other.generation_), held_(other.held_) {
  other.held_ = 0;
}

SpaceReservation& SpaceReservation::operator=(SpaceReservation&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    generation_ = other.generation_;
    held_ = other.held_;
    other.held_ = 0;
  }
  return *this;
}

fs::Result<std::uint64_t> unreserved_free_bytes(const FileState& state, fs::FileSystem& fs) {
  auto info = fs.statfs();
  if (!info) return tl::unexpected(info.error());
  return info->free_bytes > state.reserved ? info->free_bytes - state.reserved : 0;
}

tl::expected<SpaceReservation, int> SpaceReservation::take(const std::shared_ptr<FileState>& state,
                                                           fs::FileSystem& fs,
                                                           std::uint64_t bytes) {
  auto free_bytes = unreserved_free_bytes(*state, fs);
  if (!free_bytes) return tl::unexpected(cme_for(free_bytes.error(), kDiskInfoFail));
  if (bytes > *free_bytes) return tl::unexpected(static_cast<int>(kDriveFull));
  SpaceReservation reservation;
  reservation.state_ = state;
  reservation.generation_ = state->generation;
  reservation.held_ = bytes;
  state->reserved += bytes;
  return reservation;
}

void SpaceReservation::written(std::uint64_t bytes) {
  const std::uint64_t done = std::min(bytes, held_);
  held_ -= done;
  // A reservation from before a reset() is already gone from the total.
  if (state_ && state_->generation == generation_) state_->reserved -= done;
}

void SpaceReservation::release() {
  written(held_);
  state_.reset();
}

FsTicket FsTicket::take(std::shared_ptr<FileState> state, fs::SharedFileSystem* fs) {
  const std::uint64_t generation = state->generation;
  return FsTicket{std::move(state), fs, generation};
}

fs::SharedFileSystem* FsTicket::live() const {
  if (!state || state->generation != generation) return nullptr;
  return state->fs() == fs ? fs : nullptr;
}

void Checksum::add(std::span<const std::uint8_t> bytes) {
  std::size_t at = 0;
  if (high_ && !bytes.empty()) {
    sum_ ^= static_cast<std::uint16_t>((*high_ << 8U) | bytes[0]);
    high_.reset();
    at = 1;
  }
  // XOR is bytewise, so eight bytes at a time fold to the same sum: the
  // bytes at even distances from `at` are the words' high bytes. (A byte at a
  // time cost 5 us per 4 KiB of a QFUPL upload, a quarter of its time.)
  std::uint64_t lanes = 0;
  for (; at + 8 <= bytes.size(); at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + at, 8);
    lanes ^= word;
  }
  std::array<std::uint8_t, 8> lane{};
  std::memcpy(lane.data(), &lanes, 8);
  std::uint8_t high = 0, low = 0;
  for (std::size_t i = 0; i < 8; i += 2) {
    high ^= lane[i];
    low ^= lane[i + 1];
  }
  sum_ ^= static_cast<std::uint16_t>((high << 8U) | low);
  for (; at + 2 <= bytes.size(); at += 2)
    sum_ ^= static_cast<std::uint16_t>((bytes[at] << 8U) | bytes[at + 1]);
  if (at < bytes.size()) high_ = bytes[at];
}

std::uint16_t Checksum::value() const {
  return high_ ? static_cast<std::uint16_t>(sum_ ^ (*high_ << 8U)) : sum_;
}

std::string Checksum::hex() const {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%x", static_cast<unsigned>(value()));
  return text.data();
}

Expect int_arg(const at::Command& command, std::size_t index, std::int64_t low, std::int64_t high,
               std::optional<std::int64_t> fallback) {
  const at::Argument& argument = command.arg(index);
  if (argument.is_omitted()) {
    if (fallback) return *fallback;
    return tl::unexpected(static_cast<int>(kInvalidInput));
  }
  const auto value = argument.as_integer();
  if (!value) return tl::unexpected(static_cast<int>(kInvalidInput));
  if (*value < low || *value > high) return tl::unexpected(static_cast<int>(kInvalidParameter));
  return *value;
}

bool too_many_args(const at::Command& command, std::size_t count) {
  return command.args.size() > count;
}

namespace {

bool starts_with_ufs(std::string_view text) {
  if (text.size() < 4) return false;
  const std::string_view head = text.substr(0, 4);
  return (head[0] == 'U' || head[0] == 'u') && (head[1] == 'F' || head[1] == 'f') &&
         (head[2] == 'S' || head[2] == 's') && head[3] == ':';
}

bool allowed_byte(unsigned char c, bool wildcards) {
  if (c < 0x20 || c == 0x7f) return false;  // NUL and control bytes
  if (c == '/' || c == '\\' || c == ':' || c == '"') return false;
  if (c == '*' || c == '?') return wildcards;
  return true;
}

}  // namespace

tl::expected<std::string, int> parse_name(const at::Argument& argument, bool wildcards,
                                          std::uint32_t max_name) {
  const auto text = argument.as_string();
  if (!text) return tl::unexpected(static_cast<int>(kInvalidInput));
  std::string_view name = *text;
  // Real modules take "UFS:name" as well as "name" for the user file system.
  if (starts_with_ufs(name)) name.remove_prefix(4);
  const auto invalid = tl::unexpected(static_cast<int>(kInvalidName));
  if (name.empty() || name == "." || name == "..") return invalid;
  if (name.size() > kMaxNameBytes || name.size() > max_name) return invalid;
  if (name == kUploadDir) return invalid;
  for (const char c : name) {
    if (!allowed_byte(static_cast<unsigned char>(c), wildcards)) return invalid;
  }
  return std::string(name);
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative matcher with one backtrack point (the last '*'): linear in
  // practice, never recursive, so a hostile pattern cannot blow the stack.
  std::size_t p = 0;
  std::size_t n = 0;
  std::optional<std::size_t> star;
  std::size_t star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_n = n;
    } else if (star) {
      p = *star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

int cme_for(const fs::Error& error, int fallback) {
  using fs::Errc;
  switch (error.code) {
    case Errc::not_found:
    case Errc::is_dir:
    case Errc::not_dir:
      return kNotFound;
    case Errc::exists:
      return kExists;
    case Errc::invalid_name:
    case Errc::name_too_long:
      return kInvalidName;
    case Errc::no_space:
      return kNoSpace;
    case Errc::file_too_large:
      return kTooLarge;
    case Errc::too_many_open:
      return kTooManyOpen;
    case Errc::bad_handle:
      return kInvalidHandle;
    case Errc::busy:
      return kAlreadyOpen;
    case Errc::read_only:
      return kReadOnly;
    case Errc::invalid_argument:
      return kInvalidParameter;
    default:
      return fallback;
  }
}

at::Handler bind(const std::shared_ptr<FileState>& state, Bound handler) {
  return [state, handler](at::Call& call) { handler(state, call); };
}

at::Handler answer(std::string line) {
  return [line = std::move(line)](at::Call& call) {
    if (!line.empty()) call.responder.info(line);
    call.responder.ok();
  };
}

std::string path_of(std::string_view name) {
  std::string path = "/";
  path += name;
  return path;
}

}  // namespace vmodem::sim::files
