// Whole-file transfers in data mode: AT+QFUPL (host -> UFS) and AT+QFDWL
// (UFS -> host).
//
// An upload is written to a temporary file under kUploadDir, committed, and
// only then renamed to its name (an atomic rename): a power cut, a reset of
// the port, a timeout or a full drive leaves either no file under the name or
// the complete one, never a prefix of it. Its announced size is reserved
// when it starts (SpaceReservation), and a write that still fails part-way is
// reported only after the host's last announced byte.

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <vmodem/at/responder.hpp>
#include <vmodem/simulator/gate.hpp>

#include "file_support.hpp"

namespace vmodem::sim::files {

namespace {

using at::Call;

constexpr std::int64_t kDefaultUploadSize = 10240;  // Quectel FILE manuals
constexpr std::int64_t kDefaultTimeoutS = 5;
constexpr std::int64_t kMaxTimeoutS = 65535;
constexpr std::size_t kAckEvery = 1024;  // ack mode: one 'A' per 1 KiB received

struct Upload {
  FsTicket ticket;
  at::Responder responder;
  fs::Handle handle = 0;
  std::string temp;  // path of the temporary file
  std::string name;  // final name (root)
  SpaceReservation space;
  Checksum sum;
  std::size_t received = 0;  // bytes the host sent, written or not
  int failed = 0;            // CME code of a write that failed part-way
  bool ack = false;
  bool temp_gone = false;  // closed and unlinked (or committed)
  bool finished = false;   // answered or abandoned: ignore later callbacks
};

// Drops the temporary file and gives back the space held for it. Safe after a
// reset (the old instance is not touched) and on a dead file system (the
// calls just fail).
void drop_temp(Upload& upload) {
  upload.space.release();
  if (upload.temp_gone) return;
  upload.temp_gone = true;
  fs::SharedFileSystem* fs = upload.ticket.live();
  if (fs == nullptr) return;
  const auto held = fs->lock();
  (void)held->close_discard(upload.handle);
  (void)held->unlink(upload.temp);
}

void discard(Upload& upload) {
  upload.finished = true;
  drop_temp(upload);
}

// Writes one piece to the temporary file; a CME code when it failed.
int write_piece(Upload& upload, std::span<const std::uint8_t> bytes) {
  fs::SharedFileSystem* fs = upload.ticket.live();
  if (fs == nullptr) return kWriteFail;
  fs::Result<std::size_t> written;
  written = fs->lock()->write(upload.handle, bytes);
  if (written) upload.space.written(*written);
  if (written && *written == bytes.size()) return 0;
  return written ? kNoSpace : cme_for(written.error(), kWriteFail);
}

void on_upload_data(Upload& upload, std::span<const std::uint8_t> bytes) {
  if (upload.finished) return;
  if (upload.failed == 0) {
    upload.failed = write_piece(upload, bytes);
    if (upload.failed == 0) upload.sum.add(bytes);
    // The space goes back at once; the error waits until the host has sent
    // every announced byte (the engine drops the rest), so none of its data
    // is taken for a command and an ack-mode host is not left waiting.
    if (upload.failed != 0) drop_temp(upload);
  }
  const std::size_t acks_before = upload.received / kAckEvery;
  upload.received += bytes.size();
  if (!upload.ack) return;
  for (std::size_t i = acks_before; i < upload.received / kAckEvery; ++i)
    upload.responder.write_raw("A");
}

// Commits the temporary file and moves it to its name; a CME code on failure.
int commit_upload(Upload& upload) {
  upload.space.release();
  upload.temp_gone = true;
  fs::SharedFileSystem* fs = upload.ticket.live();
  if (fs == nullptr) return kWriteFail;
  const auto held = fs->lock();
  if (auto closed = held->close(upload.handle); !closed) {
    (void)held->unlink(upload.temp);
    return cme_for(closed.error(), kWriteFail);
  }
  // Another port may have created the name meanwhile: never replace a file.
  if (held->stat(path_of(upload.name))) {
    (void)held->unlink(upload.temp);
    return kExists;
  }
  if (auto moved = held->rename(upload.temp, path_of(upload.name)); !moved) {
    (void)held->unlink(upload.temp);
    return cme_for(moved.error(), kWriteFail);
  }
  return 0;
}

void on_upload_end(Upload& upload, at::UploadEnd end) {
  if (upload.finished) return;
  if (end == at::UploadEnd::kAborted) {  // port reset: nobody to answer
    discard(upload);
    return;
  }
  if (upload.failed != 0 || end == at::UploadEnd::kTimeout) {
    // A failed write is the cause even if the host then also fell silent.
    const int code = upload.failed != 0 ? upload.failed : static_cast<int>(kTimeout);
    discard(upload);
    upload.responder.cme_error(code);
    return;
  }
  upload.finished = true;
  if (const int code = commit_upload(upload); code != 0) {
    upload.responder.cme_error(code);
    return;
  }
  upload.responder.info("+QFUPL: " + std::to_string(upload.received) + "," + upload.sum.hex());
  upload.responder.ok();
}

// Removes what remove_stale_uploads() does and makes sure the directory
// exists.
void prepare_upload_dir(fs::FileSystem& fs) {
  if (!remove_stale_uploads(fs)) (void)fs.mkdir(path_of(kUploadDir));
}

struct UploadRequest {
  std::string name;
  std::int64_t size = kDefaultUploadSize;
  std::int64_t timeout_s = kDefaultTimeoutS;
  bool ack = false;
};

tl::expected<UploadRequest, int> parse_upload(const at::Command& command, std::uint32_t max_name) {
  if (too_many_args(command, 4)) return tl::unexpected(static_cast<int>(kInvalidInput));
  auto name = parse_name(command.arg(0), false, max_name);
  if (!name) return tl::unexpected(name.error());
  const auto size = int_arg(command, 1, 0, INT32_MAX, kDefaultUploadSize);
  if (!size) return tl::unexpected(size.error());
  const auto timeout = int_arg(command, 2, 1, kMaxTimeoutS, kDefaultTimeoutS);
  if (!timeout) return tl::unexpected(timeout.error());
  const auto ack = int_arg(command, 3, 0, 1, 0);
  if (!ack) return tl::unexpected(ack.error());
  return UploadRequest{std::move(*name), *size, *timeout, *ack == 1};
}

// Checks the target, reserves the space and opens the temporary file. A CME
// code on failure.
int open_upload(const std::shared_ptr<FileState>& state, fs::SharedFileSystem& fs,
                const UploadRequest& request, Upload& upload) {
  const auto held = fs.lock();
  if (auto existing = held->stat(path_of(request.name))) return kExists;
  if (static_cast<std::uint64_t>(request.size) > held->config().max_file_size) return kTooLarge;
  auto space = SpaceReservation::take(state, *held, static_cast<std::uint64_t>(request.size));
  if (!space) return space.error();
  prepare_upload_dir(*held);
  auto handle = held->open(upload.temp, fs::kWrite | fs::kCreate | fs::kTruncate);
  if (!handle) return cme_for(handle.error(), kOpenFail);
  upload.space = std::move(*space);
  upload.handle = *handle;
  return 0;
}

void qfupl(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kWriteFail);
    return;
  }
  auto request = parse_upload(call.command, fs->config().max_name);
  if (!request) {
    call.responder.cme_error(request.error());
    return;
  }
  auto upload = std::make_shared<Upload>();
  upload->temp = path_of(kUploadDir) + "/" + std::to_string(state->next_upload++);
  if (const int code = open_upload(state, *fs, *request, *upload); code != 0) {
    call.responder.cme_error(code);
    return;
  }
  upload->ticket = FsTicket::take(state, fs);
  upload->responder = call.responder;
  upload->name = std::move(request->name);
  upload->ack = request->ack;
  at::UploadSpec spec;
  spec.expected_bytes = static_cast<std::size_t>(request->size);
  spec.inactivity_timeout = std::chrono::seconds(request->timeout_s);
  spec.on_data = [upload](std::span<const std::uint8_t> bytes) { on_upload_data(*upload, bytes); };
  spec.on_end = [upload](at::UploadEnd end, std::size_t) { on_upload_end(*upload, end); };
  if (!call.responder.start_upload(std::move(spec))) discard(*upload);
}

void qfupl_test(const std::shared_ptr<FileState>& state, Call& call) {
  std::uint64_t free_bytes = 0;
  if (fs::SharedFileSystem* fs = state->fs()) {
    const auto held = fs->lock();
    // What an upload started now may announce.
    if (auto free = unreserved_free_bytes(*state, *held)) free_bytes = *free;
  }
  call.responder.info("+QFUPL: <filename>[,(1-" + std::to_string(free_bytes) +
                      ")[,(1-65535)[,(0,1)]]]");
  call.responder.ok();
}

struct Download {
  FsTicket ticket;
  at::Responder responder;
  fs::Handle handle = 0;
  std::uint64_t offset = 0;
  Checksum sum;
  bool closed = false;
};

void close_download(Download& download) {
  if (download.closed) return;
  download.closed = true;
  fs::SharedFileSystem* fs = download.ticket.live();
  if (fs == nullptr) return;
  const auto held = fs->lock();
  (void)held->close(download.handle);
}

std::size_t fill_download(Download& download, std::span<std::uint8_t> room) {
  fs::SharedFileSystem* fs = download.ticket.live();
  if (fs == nullptr) {
    download.closed = true;
    download.responder.cme_error(kReadFail);
    return 0;
  }
  fs::Result<std::size_t> got;
  got = fs->lock()->pread(download.handle, room, download.offset);
  if (!got) {
    close_download(download);
    download.responder.cme_error(cme_for(got.error(), kReadFail));
    return 0;
  }
  download.sum.add(room.first(*got));
  download.offset += *got;
  return *got;
}

void qfdwl(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kReadFail);
    return;
  }
  auto name = parse_name(call.command.arg(0), false, fs->config().max_name);
  if (!name || too_many_args(call.command, 1)) {
    call.responder.cme_error(name ? static_cast<int>(kInvalidInput) : name.error());
    return;
  }
  fs::Result<fs::Handle> handle;
  handle = fs->lock()->open(path_of(*name), fs::kRead);
  if (!handle) {
    call.responder.cme_error(cme_for(handle.error(), kOpenFail));
    return;
  }
  auto download = std::make_shared<Download>();
  download->ticket = FsTicket::take(state, fs);
  download->responder = call.responder;
  download->handle = *handle;
  at::DownloadSpec spec;
  spec.fill = [download](std::span<std::uint8_t> room) { return fill_download(*download, room); };
  spec.on_end = [download](at::DownloadEnd end) {
    close_download(*download);
    if (end != at::DownloadEnd::kComplete) return;
    download->responder.info("+QFDWL: " + std::to_string(download->offset) + "," +
                             download->sum.hex());
    download->responder.ok();
  };
  if (!call.responder.start_download(std::move(spec))) close_download(*download);
}

}  // namespace

void register_transfer_commands(at::Registry& registry, const std::shared_ptr<FileState>& state) {
  (void)registry.add(
      "+QFUPL",
      {.write = bind(state, qfupl), .test = bind(state, qfupl_test), .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFDWL", {.write = bind(state, qfdwl),
                                .test = answer("+QFDWL: <filename>"),
                                .gate_tag = kNeedsAppRdy});
}

bool remove_stale_uploads(fs::FileSystem& fs) {
  const std::string dir = path_of(kUploadDir);
  auto entries = fs.readdir(dir);
  if (!entries) return false;
  for (const auto& entry : *entries)
    (void)fs.unlink(dir + "/" + entry.name);
  return true;
}

}  // namespace vmodem::sim::files
