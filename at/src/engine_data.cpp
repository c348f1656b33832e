// Data mode: raw bytes between CONNECT and the command's final result.

#include <algorithm>

#include "engine_core.hpp"

namespace vmodem::at::detail {

namespace {
// Largest piece a download's fill() is asked for at once.
constexpr std::size_t kDownloadChunk = 4096;
}  // namespace

void EngineCore::enter_data_mode(EngineMode mode) {
  emit_result(ResultCode::kConnect);
  mode_ = mode;
  // The result block after data mode (`+QFUPL: ...`) starts a fresh response.
  block_open_ = false;
}

void EngineCore::release_data_specs() {
  // Not destroyed here: a callback of the spec may be on the stack.
  if (upload_) retired_uploads_.push_back(std::move(upload_));
  if (download_) retired_downloads_.push_back(std::move(download_));
  upload_.reset();
  download_.reset();
  upload_draining_ = false;
}

bool EngineCore::start_upload(std::uint64_t id, UploadSpec spec) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return false;
  enter_data_mode(EngineMode::kUpload);
  upload_ = std::make_shared<UploadSpec>(std::move(spec));
  upload_received_ = 0;
  upload_draining_ = false;
  upload_deadline_ = config_.now() + upload_->inactivity_timeout;
  if (upload_->expected_bytes == std::size_t{0}) {
    upload_draining_ = true;
    upload_deadline_ = config_.now() + upload_->trailing_grace;
    if (upload_->trailing_grace.count() <= 0) finish_upload(UploadEnd::kComplete);
  }
  return true;
}

std::size_t EngineCore::on_upload_bytes(std::span<const std::uint8_t> bytes) {
  const auto now = config_.now();
  const std::shared_ptr<UploadSpec> spec = upload_;
  if (upload_draining_) {
    stats_.bytes_discarded += bytes.size();
    upload_deadline_ = now + spec->trailing_grace;
    return bytes.size();
  }
  std::size_t take = bytes.size();
  if (spec->expected_bytes) take = std::min(take, *spec->expected_bytes - upload_received_);
  upload_received_ += take;
  stats_.data_bytes_in += take;
  upload_deadline_ = now + spec->inactivity_timeout;
  if (take > 0 && spec->on_data) spec->on_data(bytes.first(take));
  // The handler may have answered inside on_data, which ends data mode.
  if (mode_ != EngineMode::kUpload || upload_ != spec) return take;
  if (spec->expected_bytes != upload_received_) return take;
  if (spec->trailing_grace.count() <= 0) {
    finish_upload(UploadEnd::kComplete);
    return take;
  }
  // Everything after the last expected byte, in this chunk and later ones
  // until the line goes quiet, is padding.
  upload_draining_ = true;
  upload_deadline_ = now + spec->trailing_grace;
  stats_.bytes_discarded += bytes.size() - take;
  return bytes.size();
}

void EngineCore::finish_upload(UploadEnd end) {
  const std::shared_ptr<UploadSpec> spec = upload_;
  release_data_specs();
  mode_ = EngineMode::kExecuting;
  if (spec->on_end) spec->on_end(end, upload_received_);
}

bool EngineCore::start_download(std::uint64_t id, DownloadSpec spec) {
  Entry entry(*this);
  if (!is_current(id) || mode_ != EngineMode::kExecuting) return false;
  enter_data_mode(EngineMode::kDownload);
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
  release_data_specs();
  if (upload && upload->on_end) upload->on_end(UploadEnd::kAborted, received);
  if (download && download->on_end) download->on_end(DownloadEnd::kAborted);
}

}  // namespace vmodem::at::detail
