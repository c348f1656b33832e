// Fetching a delta package from an FTP or HTTP server with libcurl, off the
// module's io thread, and the DFOTA guide's error codes for what went wrong.
//
// A Transfer runs on its own thread (curl multi, polled every 100 ms so a
// cancel or a stall is noticed at once) and buffers the package in memory:
// packages are at most the FOTA area (10 MiB on the BG95 profiles). It ends
// exactly once, calling `done` on its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fota_download/fota_source.hpp"

namespace vmodem::sim::fota {

// Why a download failed, independent of the protocol. The codes the host
// sees come from result_code().
enum class Failure {
  none,
  context_unconfigured,  // the fota/cid context is not defined (AT+QICSGP)
  context_inactive,      // ... or not activated (AT+QIACT)
  dns,                   // the host name does not resolve
  connect,               // connection refused or unreachable
  login,                 // FTP login refused (530)
  missing_file,          // FTP 550 / HTTP 404
  response,              // another HTTP status than 2xx
  timeout,               // no package byte for the timeout
  control_closed,        // the server hung up before or instead of answering
  data_closed,           // the connection closed before the whole package
  receive_error,         // connection reset while receiving
  send_error,            // connection failed while sending
  data_connect,          // FTP data connection could not be opened
  too_large,             // larger than the FOTA area
  // FTP replies the server gave instead of going on:
  service_unavailable,  // 421 (closing the control connection)
  transfer_aborted,     // 426 (the data connection closed, transfer aborted)
  local_error,          // 451 (local error in processing)
  storage_exceeded,     // 552 (exceeded storage allocation)
  cancelled,            // power lost or module reset: no report
  other,
};

// <ftp_err> / <http_err> for a failure (0 for none), per the table in
// README.md ("AT+QFOTADL").
int result_code(SourceKind kind, Failure failure);

struct DownloadRequest {
  FotaSource source;
  std::uint64_t max_bytes = 0;  // larger packages end as Failure::too_large
  // No package byte for this long (or no connection): Failure::timeout.
  std::chrono::milliseconds timeout{90000};
  // The whole download, however steadily bytes arrive: Failure::timeout.
  std::chrono::milliseconds deadline{1800000};
};

struct DownloadResult {
  Failure failure = Failure::none;
  std::vector<std::uint8_t> package;  // the whole package when failure == none
  std::string detail;                 // libcurl's message, for the log
};

class Transfer {
 public:
  using Done = std::function<void(DownloadResult)>;
  // Starts the download of an FTP or HTTP source on a new thread.
  Transfer(DownloadRequest request, Done done);
  // Cancels (done gets Failure::cancelled if still running) and joins.
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Asks the transfer to stop soon; done still runs once.
  void cancel();

 private:
  void run(const DownloadRequest& request, const Done& done);

  std::atomic<bool> cancelled_{false};
  void* multi_ = nullptr;  // CURLM*, woken by cancel()
  std::thread thread_;
};

}  // namespace vmodem::sim::fota
