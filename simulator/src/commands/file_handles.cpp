// Handle-based file access: AT+QFOPEN, +QFREAD, +QFWRITE, +QFSEEK,
// +QFPOSITION, +QFTUCAT, +QFCLOSE. Handles are module-wide (any port may use
// one) and are dropped by FileHandles::reset().

#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <vmodem/at/responder.hpp>
#include <vmodem/simulator/gate.hpp>

#include "file_support.hpp"

namespace vmodem::sim::files {

namespace {

using at::Call;

constexpr std::int64_t kMaxHandleValue = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kDefaultTimeoutS = 5;
constexpr std::int64_t kMaxTimeoutS = 65535;

// The open file named by parameter `index`, or a CME code (400/425 for a bad
// number, 416 for an unknown handle or one from a file system that is gone).
tl::expected<std::pair<std::uint32_t, OpenFile*>, int> lookup(FileState& state,
                                                              const at::Command& command,
                                                              std::size_t index) {
  const auto value = int_arg(command, index, 0, kMaxHandleValue, std::nullopt);
  if (!value) return tl::unexpected(value.error());
  const auto id = static_cast<std::uint32_t>(*value);
  const auto found = state.handles.find(id);
  fs::SharedFileSystem* fs = state.fs();
  if (found == state.handles.end() || fs == nullptr || found->second.fs != fs)
    return tl::unexpected(static_cast<int>(kInvalidHandle));
  return std::pair{id, &found->second};
}

std::uint32_t allocate_id(FileState& state) {
  while (state.next_handle == 0 || state.handles.contains(state.next_handle)) {
    state.next_handle = state.next_handle >= kMaxHandleValue ? 1 : state.next_handle + 1;
  }
  return state.next_handle++;
}

std::uint32_t open_flags(std::int64_t mode) {
  switch (mode) {
    case 0:  // create if missing, keep the content, read and write
      return fs::kReadWrite | fs::kCreate;
    case 1:  // create if missing, start empty, read and write
      return fs::kReadWrite | fs::kCreate | fs::kTruncate;
    default:  // 2: an existing file, read only
      return fs::kRead;
  }
}

void qfopen(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kOpenFail);
    return;
  }
  auto name = parse_name(call.command.arg(0), false, fs->config().max_name);
  const auto mode = int_arg(call.command, 1, 0, 2, 0);
  if (!name || !mode || too_many_args(call.command, 2)) {
    call.responder.cme_error(!name ? name.error() : !mode ? mode.error() : kInvalidInput);
    return;
  }
  if (state->is_open(fs, *name)) {
    call.responder.cme_error(kAlreadyOpen);
    return;
  }
  if (state->handles.size() >= kMaxOpenHandles) {
    call.responder.cme_error(kTooManyOpen);
    return;
  }
  fs::Result<fs::Handle> handle;
  handle = fs->lock()->open(path_of(*name), open_flags(*mode));
  if (!handle) {
    call.responder.cme_error(cme_for(handle.error(), kOpenFail));
    return;
  }
  const std::uint32_t id = allocate_id(*state);
  state->handles[id] = OpenFile{fs, *handle, std::move(*name), static_cast<int>(*mode)};
  call.responder.info("+QFOPEN: " + std::to_string(id));
  call.responder.ok();
}

// AT+QFOPEN? lists the open files.
void qfopen_read(const std::shared_ptr<FileState>& state, Call& call) {
  for (const auto& [id, file] : state->handles) {
    if (file.fs != state->fs()) continue;
    call.responder.info("+QFOPEN: \"" + file.name + "\"," + std::to_string(id) + "," +
                        std::to_string(file.mode));
  }
  call.responder.ok();
}

// AT+QFREAD=<handle>[,<length>] -> CONNECT <n>, the bytes, OK. Without a
// length it reads to the end of the file; at the end it answers CONNECT 0.
void qfread(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  if (!found || too_many_args(call.command, 2)) {
    call.responder.cme_error(found ? static_cast<int>(kInvalidInput) : found.error());
    return;
  }
  OpenFile& file = *found->second;
  const auto locked = file.fs->lock();
  fs::FileSystem& fs = *locked;
  auto info = fs.fstat(file.handle);
  auto position = fs.seek(file.handle, 0, fs::Whence::current);
  if (!info || !position) {
    call.responder.cme_error(cme_for(!info ? info.error() : position.error(), kReadFail));
    return;
  }
  const std::uint64_t left = info->size > *position ? info->size - *position : 0;
  const auto length = int_arg(call.command, 1, 0, kMaxHandleValue, static_cast<std::int64_t>(left));
  if (!length) {
    call.responder.cme_error(length.error());
    return;
  }
  std::vector<std::uint8_t> data(std::min<std::uint64_t>(left, *length));
  auto got = fs.read(file.handle, data);
  if (!got) {
    call.responder.cme_error(cme_for(got.error(), kReadFail));
    return;
  }
  data.resize(*got);
  call.responder.info("CONNECT " + std::to_string(data.size()));
  call.responder.write_raw(data);
  call.responder.ok();
}

struct Write {
  FsTicket ticket;
  at::Responder responder;
  fs::Handle handle = 0;
  SpaceReservation space;
  std::size_t written = 0;
  int failed = 0;  // CME code of a write that failed part-way
};

void on_write_data(Write& write, std::span<const std::uint8_t> bytes) {
  if (write.failed != 0) return;  // the engine still takes the rest: it is data
  fs::SharedFileSystem* fs = write.ticket.live();
  fs::Result<std::size_t> done = fs::fail(fs::Errc::bad_handle);
  if (fs != nullptr) {
    const auto held = fs->lock();
    done = held->write(write.handle, bytes);
  }
  if (done) {
    write.written += *done;
    write.space.written(*done);
  }
  if (!done || *done != bytes.size()) {
    // Reported once the host has sent every announced byte (on_write_end).
    write.failed = done ? kNoSpace : cme_for(done.error(), kWriteFail);
    write.space.release();
  }
}

// A timeout ends the write with what arrived, like the module does.
void on_write_end(Write& write, at::UploadEnd end) {
  write.space.release();
  if (end == at::UploadEnd::kAborted) return;
  fs::SharedFileSystem* fs = write.ticket.live();
  if (fs == nullptr) {
    write.responder.cme_error(kWriteFail);
    return;
  }
  // Durable once the host sees +QFWRITE, as on the module's flash file system;
  // what a failed write did put in the file is kept (the handle's file is
  // not all-or-nothing) but the host sees the error. Answered with the lock
  // released: the answer may start the next command of a chained line
  // (AT+QFWRITE=0,10;+QFCLOSE=0), which takes the lock itself.
  fs::Status synced;
  fs::Result<fs::Stat> info;
  {
    const auto held = fs->lock();
    synced = held->fsync(write.handle);
    info = held->fstat(write.handle);
  }
  if (write.failed != 0) {
    write.responder.cme_error(write.failed);
    return;
  }
  if (!synced || !info) {
    write.responder.cme_error(cme_for(!synced ? synced.error() : info.error(), kWriteFail));
    return;
  }
  write.responder.info("+QFWRITE: " + std::to_string(write.written) + "," +
                       std::to_string(info->size));
  write.responder.ok();
}

// Refuses a write that cannot fit before CONNECT: past the file-size limit
// from the handle's position (423), or more than the free space no other
// transfer holds (403). A CME code, or the reservation.
tl::expected<SpaceReservation, int> admit_write(const std::shared_ptr<FileState>& state,
                                                OpenFile& file, std::uint64_t length) {
  const auto locked = file.fs->lock();
  fs::FileSystem& fs = *locked;
  auto position = fs.seek(file.handle, 0, fs::Whence::current);
  if (!position) return tl::unexpected(cme_for(position.error(), kWriteFail));
  if (*position + length > fs.config().max_file_size)
    return tl::unexpected(static_cast<int>(kTooLarge));
  return SpaceReservation::take(state, fs, length);
}

// AT+QFWRITE=<handle>,<length>[,<timeout>] -> CONNECT, bytes, +QFWRITE: <n>,<size>.
void qfwrite(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  if (!found) {
    call.responder.cme_error(found.error());
    return;
  }
  OpenFile& file = *found->second;
  const auto length = int_arg(
      call.command, 1, 1, static_cast<std::int64_t>(file.fs->config().max_file_size), std::nullopt);
  const auto timeout = int_arg(call.command, 2, 1, kMaxTimeoutS, kDefaultTimeoutS);
  if (!length || !timeout || too_many_args(call.command, 3)) {
    call.responder.cme_error(!length ? length.error() : !timeout ? timeout.error() : kInvalidInput);
    return;
  }
  if (file.mode == 2) {
    call.responder.cme_error(kReadOnly);
    return;
  }
  auto space = admit_write(state, file, static_cast<std::uint64_t>(*length));
  if (!space) {
    call.responder.cme_error(space.error());
    return;
  }
  auto write = std::make_shared<Write>();
  write->ticket = FsTicket::take(state, file.fs);
  write->responder = call.responder;
  write->handle = file.handle;
  write->space = std::move(*space);
  at::UploadSpec spec;
  spec.expected_bytes = static_cast<std::size_t>(*length);
  spec.inactivity_timeout = std::chrono::seconds(*timeout);
  spec.on_data = [write](std::span<const std::uint8_t> bytes) { on_write_data(*write, bytes); };
  spec.on_end = [write](at::UploadEnd end, std::size_t) { on_write_end(*write, end); };
  call.responder.start_upload(std::move(spec));
}

// AT+QFSEEK=<handle>,<offset>[,<position>]: from the start (0), the current
// position (1) or the end (2). Past the end is refused from 0 and 1 (401);
// from the end the pointer may move beyond it (Quectel FILE manuals).
void qfseek(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  const auto offset = int_arg(call.command, 1, 0, kMaxHandleValue, std::nullopt);
  const auto position = int_arg(call.command, 2, 0, 2, 0);
  if (!found || !offset || !position || too_many_args(call.command, 3)) {
    call.responder.cme_error(!found      ? found.error()
                             : !offset   ? offset.error()
                             : !position ? position.error()
                                         : kInvalidInput);
    return;
  }
  OpenFile& file = *found->second;
  const auto locked = file.fs->lock();
  fs::FileSystem& fs = *locked;
  auto info = fs.fstat(file.handle);
  auto current = fs.seek(file.handle, 0, fs::Whence::current);
  if (!info || !current) {
    call.responder.cme_error(cme_for(!info ? info.error() : current.error(), kInvalidHandle));
    return;
  }
  const std::uint64_t base = *position == 0 ? 0 : *position == 1 ? *current : info->size;
  const std::uint64_t target = base + static_cast<std::uint64_t>(*offset);
  if (*position != 2 && target > info->size) {
    call.responder.cme_error(kLargerThanFile);
    return;
  }
  auto moved = fs.seek(file.handle, static_cast<std::int64_t>(target), fs::Whence::set);
  if (!moved) {
    call.responder.cme_error(cme_for(moved.error(), kInvalidParameter));
    return;
  }
  call.responder.ok();
}

void qfposition(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  if (!found || too_many_args(call.command, 1)) {
    call.responder.cme_error(found ? static_cast<int>(kInvalidInput) : found.error());
    return;
  }
  OpenFile& file = *found->second;
  const auto held = file.fs->lock();
  auto position = held->seek(file.handle, 0, fs::Whence::current);
  if (!position) {
    call.responder.cme_error(cme_for(position.error(), kInvalidHandle));
    return;
  }
  call.responder.info("+QFPOSITION: " + std::to_string(*position));
  call.responder.ok();
}

// AT+QFTUCAT=<handle>: cuts the file at the handle's position.
void qftucat(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  if (!found || too_many_args(call.command, 1)) {
    call.responder.cme_error(found ? static_cast<int>(kInvalidInput) : found.error());
    return;
  }
  OpenFile& file = *found->second;
  if (file.mode == 2) {
    call.responder.cme_error(kReadOnly);
    return;
  }
  const auto held = file.fs->lock();
  auto position = held->seek(file.handle, 0, fs::Whence::current);
  fs::Status cut = position ? held->truncate(file.handle, *position)
                            : fs::Status(tl::unexpected(position.error()));
  if (cut) cut = held->fsync(file.handle);
  if (!cut) {
    call.responder.cme_error(cme_for(cut.error(), kWriteFail));
    return;
  }
  call.responder.ok();
}

void qfclose(const std::shared_ptr<FileState>& state, Call& call) {
  auto found = lookup(*state, call.command, 0);
  if (!found || too_many_args(call.command, 1)) {
    call.responder.cme_error(found ? static_cast<int>(kInvalidInput) : found.error());
    return;
  }
  const OpenFile file = *found->second;
  state->handles.erase(found->first);  // gone whatever the commit says
  fs::Status closed;
  {
    const auto held = file.fs->lock();
    closed = held->close(file.handle);
  }
  if (!closed) {
    call.responder.cme_error(cme_for(closed.error(), kWriteFail));
    return;
  }
  call.responder.ok();
}

}  // namespace

void register_handle_commands(at::Registry& registry, const std::shared_ptr<FileState>& state) {
  (void)registry.add("+QFOPEN", {.read = bind(state, qfopen_read),
                                 .write = bind(state, qfopen),
                                 .test = answer("+QFOPEN: <filename>[,(0-2)]"),
                                 .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFREAD", {.write = bind(state, qfread),
                                 .test = answer("+QFREAD: <filehandle>[,<length>]"),
                                 .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFWRITE", {.write = bind(state, qfwrite),
                                  .test = answer("+QFWRITE: <filehandle>,<length>[,(1-65535)]"),
                                  .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFSEEK", {.write = bind(state, qfseek),
                                 .test = answer("+QFSEEK: <filehandle>,<offset>[,(0-2)]"),
                                 .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFPOSITION", {.write = bind(state, qfposition),
                                     .test = answer("+QFPOSITION: <filehandle>"),
                                     .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFTUCAT", {.write = bind(state, qftucat),
                                  .test = answer("+QFTUCAT: <filehandle>"),
                                  .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFCLOSE", {.write = bind(state, qfclose),
                                  .test = answer("+QFCLOSE: <filehandle>"),
                                  .gate_tag = kNeedsAppRdy});
}

}  // namespace vmodem::sim::files
