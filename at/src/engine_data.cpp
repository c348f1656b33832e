// Data mode: raw bytes between CONNECT (or an upload's prompt) and the
// command's final result.

#include <algorithm>

#include "engine_core.hpp"
#include "names.hpp"

namespace vmodem::at::detail {

namespace {
// Largest piece a download's fill() is asked for at once.
constexpr std::size_t kDownloadChunk = 4096;

// The ends of a text-style upload (UploadSpec::ends_at_ctrl_z).
constexpr std::uint8_t kCtrlZ = 0x1A;
constexpr std::uint8_t kEscape = 0x1B;
}  // namespace

void EngineCore::enter_data_mode(EngineMode mode, const std::optional<std::string>& prompt) {
  // A prompt is not a result code: no framing, and ATQ1 does not hide it.
  if (prompt) {
    append_output(*prompt);
  } else {
    emit_result(ResultCode::kConnect);
  }
  mode_ = mode;
  // The result block after data mode (`+QFUPL: ...`) starts a fresh response.
  block_open_ = false;
  // Until the transport takes these bytes the host cannot have seen CONNECT
  // (or the prompt), so an LF it sent right after the line's CR is still
  // part of that line.
  connect_unsent_ = out_.size();
}

void EngineCore::release_data_specs() {
  // Not destroyed here: a callback of the spec may be on the stack.
  if (upload_) retired_uploads_.push_back(std::move(upload_));
  if (download_) retired_downloads_.push_back(std::move(download_));
  upload_.reset();
  download_.reset();
  upload_answered_ = false;
  connect_unsent_ = 0;
}

bool EngineCore::start_upload(std::uint64_t id, UploadSpec spec) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return false;
  enter_data_mode(EngineMode::kUpload, spec.prompt);
  upload_ = std::make_shared<UploadSpec>(std::move(spec));
  upload_received_ = 0;
  upload_answered_ = false;
  upload_deadline_ = config_.now() + upload_->inactivity_timeout;
  // A text-style upload ends only at its Ctrl-Z or ESC, whatever its maximum.
  if (upload_->expected_bytes == std::size_t{0} && !upload_->ends_at_ctrl_z) {
    begin_padding(config_.now(), upload_->trailing_grace);
    finish_upload(UploadEnd::kComplete);
  }
  return true;
}

void EngineCore::begin_padding(Clock::time_point now, std::chrono::milliseconds grace) {
  if (grace.count() <= 0) return;
  padding_grace_ = grace;
  padding_until_ = now + grace;
}

bool EngineCore::drop_padding(std::uint8_t byte) {
  if (!padding_until_) return false;
  const auto now = config_.now();
  // The next command (its `A`), or a pause longer than the grace, ends it.
  if (now > *padding_until_ || is_a(static_cast<char>(byte)) || !line_.empty()) {
    padding_until_.reset();
    return false;
  }
  ++stats_.bytes_discarded;
  padding_until_ = now + padding_grace_;
  return true;
}

// A host that ends its command lines with CR LF sends the LF right behind the
// CR, before it can have read CONNECT; a host that ends them with CR alone
// waits for CONNECT, so its data may well start with an LF. Hence an LF is
// the line's and not data only when it is the very next byte after the S3
// and CONNECT has not yet been handed to the transport (same read, or a later
// read that came in before CONNECT went out). A prompt (`> `) counts as
// CONNECT here.
bool EngineCore::swallow_terminator_lf(std::span<const std::uint8_t> bytes) {
  if (!after_s3_) return false;
  after_s3_ = false;
  if (bytes.front() != '\n') return false;
  ++stats_.bytes_discarded;
  return true;
}

void EngineCore::deliver_upload(std::span<const std::uint8_t> bytes) {
  if (upload_answered_) {
    stats_.bytes_discarded += bytes.size();
    return;
  }
  stats_.data_bytes_in += bytes.size();
  // A copy: on_data may answer or reset the port, which releases upload_.
  const std::shared_ptr<UploadSpec> spec = upload_;
  if (spec->on_data) spec->on_data(bytes);
}

std::size_t EngineCore::on_upload_bytes(std::span<const std::uint8_t> bytes) {
  if (swallow_terminator_lf(bytes)) return 1;
  if (upload_->ends_at_ctrl_z) return on_text_upload_bytes(bytes);
  const auto now = config_.now();
  const std::shared_ptr<UploadSpec> spec = upload_;
  // Exactly the announced bytes belong to the upload, whatever the handler
  // made of them: an answer given early only stops their delivery, so no
  // byte of the host's data is ever taken for a command.
  std::size_t take = bytes.size();
  if (spec->expected_bytes) take = std::min(take, *spec->expected_bytes - upload_received_);
  upload_received_ += take;
  upload_deadline_ = now + spec->inactivity_timeout;
  if (take > 0) deliver_upload(bytes.first(take));
  // on_data may have reset the port, which ends data mode.
  if (mode_ != EngineMode::kUpload || upload_ != spec) return take;
  if (spec->expected_bytes != upload_received_) return take;
  // All in: the answer goes out now. What the host sends after its data and
  // before its next command (the next `A`), with no pause longer than the
  // grace, is trailing padding and dropped, in this chunk and later ones
  // (drop_padding).
  begin_padding(now, spec->trailing_grace);
  std::size_t used = take;
  while (used < bytes.size() && drop_padding(bytes[used]))
    ++used;
  finish_upload(UploadEnd::kComplete);
  return used;
}

// Text style: data up to the first Ctrl-Z or ESC, which ends the upload and
// is consumed, not delivered; the bytes after it are the next command line.
// Data past the maximum is consumed and dropped. Whatever the handler made of
// the data (an early answer), the host's bytes up to the terminator are never
// parsed as commands.
std::size_t EngineCore::on_text_upload_bytes(std::span<const std::uint8_t> bytes) {
  const std::shared_ptr<UploadSpec> spec = upload_;
  upload_deadline_ = config_.now() + spec->inactivity_timeout;
  const auto end = std::find_if(bytes.begin(), bytes.end(),
                                [](std::uint8_t b) { return b == kCtrlZ || b == kEscape; });
  const auto data = bytes.first(static_cast<std::size_t>(end - bytes.begin()));
  std::size_t take = data.size();
  if (spec->expected_bytes) take = std::min(take, *spec->expected_bytes - upload_received_);
  upload_received_ += take;
  if (take > 0) deliver_upload(data.first(take));
  // on_data may have reset the port, which ends data mode.
  if (mode_ != EngineMode::kUpload || upload_ != spec) return take;
  stats_.bytes_discarded += data.size() - take;
  if (end == bytes.end()) return data.size();
  finish_upload(*end == kCtrlZ ? UploadEnd::kComplete : UploadEnd::kCancelled);
  return data.size() + 1;
}

void EngineCore::finish_upload(UploadEnd end) {
  const std::shared_ptr<UploadSpec> spec = upload_;
  const bool answered = upload_answered_;
  release_data_specs();
  mode_ = EngineMode::kExecuting;
  if (answered) {
    // The handler's early answer, now that the host has stopped sending.
    if (!dispatching_) run_chain();
    return;
  }
  if (spec->on_end) spec->on_end(end, upload_received_);
}

bool EngineCore::start_download(std::uint64_t id, DownloadSpec spec) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return false;
  enter_data_mode(EngineMode::kDownload, std::nullopt);
  download_ = std::make_shared<DownloadSpec>(std::move(spec));
  pump_download();
  return true;
}

void EngineCore::pump_download() {
  while (mode_ == EngineMode::kDownload && !output_full()) {
    const std::shared_ptr<DownloadSpec> spec = download_;
    const std::size_t room = std::min(config_.output_bound - out_.size(), kDownloadChunk);
    download_scratch_.resize(room);
    const std::size_t produced = spec->fill ? spec->fill(download_scratch_) : 0;
    // fill() may have answered (ending data mode); then its bytes are moot.
    if (mode_ != EngineMode::kDownload || download_ != spec) return;
    if (produced == 0) {
      finish_download(DownloadEnd::kComplete);
      return;
    }
    append_output(std::span<const std::uint8_t>(download_scratch_).first(std::min(produced, room)));
  }
}

void EngineCore::finish_download(DownloadEnd end) {
  const std::shared_ptr<DownloadSpec> spec = download_;
  release_data_specs();
  mode_ = EngineMode::kExecuting;
  if (spec->on_end) spec->on_end(end);
}

void EngineCore::abort_data_mode() {
  const std::shared_ptr<UploadSpec> upload = upload_;
  const std::shared_ptr<DownloadSpec> download = download_;
  const std::size_t received = upload_received_;
  const bool answered = upload_answered_;
  release_data_specs();
  after_s3_ = false;
  if (upload && !answered && upload->on_end) upload->on_end(UploadEnd::kAborted, received);
  if (download && download->on_end) download->on_end(DownloadEnd::kAborted);
}

}  // namespace vmodem::at::detail
