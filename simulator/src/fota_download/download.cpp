#include "fota_download/download.hpp"

#include <cstdio>
#include <mutex>
#include <optional>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "fota_download/curl_library.hpp"

namespace vmodem::sim::fota {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollMs = 100;

struct Sink {
  std::vector<std::uint8_t> package;
  std::uint64_t max_bytes = 0;
  bool too_large = false;
  Clock::time_point last_byte = Clock::now();
};

std::size_t on_data(char* bytes, std::size_t size, std::size_t count, void* user) {
  auto& sink = *static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink.package.size() + n > sink.max_bytes) {
    sink.too_large = true;
    return 0;  // anything but n aborts with CURLE_WRITE_ERROR
  }
  sink.package.insert(sink.package.end(), bytes, bytes + n);
  sink.last_byte = Clock::now();
  return n;
}

// A failed FTP transfer the server explained with a reply code; none when
// its last reply does not say more than libcurl's error.
std::optional<Failure> ftp_reply_failure(long response) {
  switch (response) {
    case 421:
      return Failure::service_unavailable;
    case 425:
      return Failure::data_connect;
    case 426:
      return Failure::transfer_aborted;
    case 451:
      return Failure::local_error;
    case 552:
      return Failure::storage_exceeded;
    default:
      return std::nullopt;
  }
}

Failure classify(SourceKind kind, CURLcode code, long response, const Sink& sink) {
  if (kind == SourceKind::ftp && code != CURLE_OK && !sink.too_large) {
    if (auto failure = ftp_reply_failure(response)) return *failure;
  }
  switch (code) {
    case CURLE_OK:
      // FTP ends on 226; HTTP redirects are not followed (3xx: a failure).
      if (kind == SourceKind::ftp) return Failure::none;
      return response >= 200 && response < 300 ? Failure::none : Failure::response;
    case CURLE_HTTP_RETURNED_ERROR:
      return response == 404 ? Failure::missing_file : Failure::response;
    case CURLE_COULDNT_RESOLVE_HOST:
      return Failure::dns;
    case CURLE_COULDNT_CONNECT:
      return Failure::connect;
    case CURLE_LOGIN_DENIED:
      return Failure::login;
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_FTP_COULDNT_RETR_FILE:
    case CURLE_REMOTE_ACCESS_DENIED:  // CWD into a missing directory
      return Failure::missing_file;
    case CURLE_OPERATION_TIMEDOUT:
      return Failure::timeout;
    case CURLE_FILESIZE_EXCEEDED:
      return Failure::too_large;
    case CURLE_WRITE_ERROR:
      return sink.too_large ? Failure::too_large : Failure::other;
    case CURLE_PARTIAL_FILE:
      return Failure::data_closed;
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
      return Failure::control_closed;
    case CURLE_RECV_ERROR:
      // An FTP server that closes before its greeting has said nothing at all.
      return kind == SourceKind::ftp && response == 0 ? Failure::control_closed
                                                      : Failure::receive_error;
    case CURLE_SEND_ERROR:
      return Failure::send_error;
    case CURLE_FTP_ACCEPT_FAILED:
    case CURLE_FTP_WEIRD_PASV_REPLY:
    case CURLE_FTP_WEIRD_227_FORMAT:
    case CURLE_FTP_CANT_GET_HOST:
    case CURLE_FTP_PORT_FAILED:
      return Failure::data_connect;
    default:
      return Failure::other;
  }
}

void configure(const CurlLibrary& curl, CURL* easy, const DownloadRequest& request, Sink& sink,
               char* error_text, const std::string& url) {
  curl.easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "ftp,http");
  curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  // The module's network is not the host's: ignore the host's proxy settings.
  curl.easy_setopt(easy, CURLOPT_PROXY, "");
  curl.easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
  curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // Overall: a server sending a byte a second never trips the inactivity check.
  curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.deadline.count()));
  // Refused early when the server announces the size (SIZE, Content-Length).
  curl.easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
  curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
  curl.easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, error_text);
}

}  // namespace

int result_code(SourceKind kind, Failure failure) {
  struct Row {
    Failure failure;
    int ftp, http;
  };
  // The table in README.md ("AT+QFOTADL"): keep the two in step.
  static constexpr Row kCodes[] = {
      {Failure::none, 0, 0},
      {Failure::context_unconfigured, 610, 708},
      {Failure::context_inactive, 605, 709},
      {Failure::dns, 604, 714},
      {Failure::connect, 605, 716},
      {Failure::login, 625, 723},
      {Failure::missing_file, 627, 723},
      {Failure::response, 627, 723},
      {Failure::timeout, 609, 702},
      {Failure::control_closed, 606, 719},
      {Failure::data_closed, 607, 719},
      {Failure::receive_error, 608, 717},
      {Failure::send_error, 608, 718},
      {Failure::data_connect, 615, 716},
      {Failure::too_large, 619, 729},
      {Failure::service_unavailable, 614, 701},
      {Failure::transfer_aborted, 616, 701},
      {Failure::local_error, 618, 701},
      {Failure::storage_exceeded, 629, 701},
  };
  const bool ftp = kind == SourceKind::ftp;
  for (const auto& row : kCodes) {
    if (row.failure == failure) return ftp ? row.ftp : row.http;
  }
  return ftp ? 601 : 701;  // unknown error
}

Transfer::Transfer(DownloadRequest request, Done done) {
  if (const CurlLibrary* curl = curl_library()) multi_ = curl->multi_init();
  thread_ = std::thread(
      [this, request = std::move(request), done = std::move(done)] { run(request, done); });
}

Transfer::~Transfer() {
  cancel();
  if (thread_.joinable()) thread_.join();
  if (multi_ != nullptr) curl_library()->multi_cleanup(static_cast<CURLM*>(multi_));
}

void Transfer::cancel() {
  cancelled_ = true;
  if (multi_ != nullptr) curl_library()->multi_wakeup(static_cast<CURLM*>(multi_));
}

void Transfer::run(const DownloadRequest& request, const Done& done) {
  std::string why;
  const CurlLibrary* library = curl_library(&why);
  if (library == nullptr || multi_ == nullptr) {
    done(DownloadResult{Failure::other, {}, why.empty() ? "libcurl failed to start" : why});
    return;
  }
  const CurlLibrary& curl = *library;
  auto* multi = static_cast<CURLM*>(multi_);
  CURL* easy = curl.easy_init();
  Sink sink;
  sink.max_bytes = request.max_bytes;
  char error_text[CURL_ERROR_SIZE] = {};
  const std::string url = request.source.curl_url();
  configure(curl, easy, request, sink, error_text, url);
  curl.multi_add_handle(multi, easy);

  DownloadResult result;
  bool finished = false;
  CURLcode code = CURLE_OK;
  while (!finished) {
    int running = 0;
    curl.multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl.multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE) {
        code = message->data.result;
        finished = true;
      }
    }
    if (finished) break;
    if (cancelled_) {
      result.failure = Failure::cancelled;
      break;
    }
    if (Clock::now() - sink.last_byte > request.timeout) {
      code = CURLE_OPERATION_TIMEDOUT;
      std::snprintf(error_text, sizeof error_text, "no data for %lld ms",
                    static_cast<long long>(request.timeout.count()));
      finished = true;
      break;
    }
    curl.multi_poll(multi, nullptr, 0, kPollMs, nullptr);
  }
  if (finished) {
    long response = 0;
    curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response);
    result.failure = classify(request.source.kind, code, response, sink);
    result.detail = error_text[0] != '\0' ? error_text : curl.easy_strerror(code);
    if (result.failure == Failure::none) {
      result.package = std::move(sink.package);
    } else if (response != 0) {
      result.detail += " (response " + std::to_string(response) + ")";
    }
  }
  curl.multi_remove_handle(multi, easy);
  curl.easy_cleanup(easy);
  done(std::move(result));
}

}  // namespace vmodem::sim::fota
