// libcurl, loaded the first time a download starts.
//
// Linked normally, libcurl's dependency chain (TLS, Kerberos, LDAP, SSH,
// ... about 25 libraries) costs every vmodem process some 2.6 ms of dynamic
// linking at start — `vmodem --version`, every `vmodem ctl` call and every
// `delta apply` — while only AT+QFOTADL's downloads use it. The entry points
// are the libcurl ones of the same names; the header still comes from
// <curl/curl.h> (its types and constants).
#pragma once

#include <string>

#include <curl/curl.h>

namespace vmodem::sim::fota {

struct CurlLibrary {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* easy, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL* easy, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  void (*easy_cleanup)(CURL* easy);
  CURLM* (*multi_init)();
  CURLMcode (*multi_add_handle)(CURLM* multi, CURL* easy);
  CURLMcode (*multi_remove_handle)(CURLM* multi, CURL* easy);
  CURLMcode (*multi_perform)(CURLM* multi, int* running);
  CURLMsg* (*multi_info_read)(CURLM* multi, int* queued);
  CURLMcode (*multi_poll)(CURLM* multi, curl_waitfd* extra, unsigned int extra_count,
                          int timeout_ms, int* ready);
  CURLMcode (*multi_wakeup)(CURLM* multi);
  CURLMcode (*multi_cleanup)(CURLM* multi);
};

// libcurl (libcurl.so.4), loaded and globally initialised once per process
// on the first call; thread-safe. nullptr when it cannot be loaded, with
// the reason in `why` (a download then fails with it, nothing else does).
const CurlLibrary* curl_library(std::string* why = nullptr);

}  // namespace vmodem::sim::fota
