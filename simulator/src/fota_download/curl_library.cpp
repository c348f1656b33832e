#include "fota_download/curl_library.hpp"

#include <mutex>

#include <dlfcn.h>

namespace vmodem::sim::fota {

namespace {

struct Loaded {
  CurlLibrary api{};
  std::string error;  // empty when api is usable
};

// Fills `slot` with the symbol `name`; false (and the reason) when missing.
template <class Function>
bool bind(void* handle, const char* name, Function& slot, std::string& error) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    error = std::string("libcurl lacks ") + name;
    return false;
  }
  slot = reinterpret_cast<Function>(symbol);
  return true;
}

Loaded load() {
  Loaded loaded;
  // Never unloaded: downloads may run until the process ends.
  void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    // dlerror is per-thread state; this runs once, under call_once.
    const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe)
    loaded.error = std::string("cannot load libcurl: ") + (why ? why : "unknown error");
    return loaded;
  }
  CurlLibrary& c = loaded.api;
  std::string& e = loaded.error;
  const bool all = bind(handle, "curl_global_init", c.global_init, e) &&
                   bind(handle, "curl_easy_init", c.easy_init, e) &&
                   bind(handle, "curl_easy_setopt", c.easy_setopt, e) &&
                   bind(handle, "curl_easy_getinfo", c.easy_getinfo, e) &&
                   bind(handle, "curl_easy_strerror", c.easy_strerror, e) &&
                   bind(handle, "curl_easy_cleanup", c.easy_cleanup, e) &&
                   bind(handle, "curl_multi_init", c.multi_init, e) &&
                   bind(handle, "curl_multi_add_handle", c.multi_add_handle, e) &&
                   bind(handle, "curl_multi_remove_handle", c.multi_remove_handle, e) &&
                   bind(handle, "curl_multi_perform", c.multi_perform, e) &&
                   bind(handle, "curl_multi_info_read", c.multi_info_read, e) &&
                   bind(handle, "curl_multi_poll", c.multi_poll, e) &&
                   bind(handle, "curl_multi_wakeup", c.multi_wakeup, e) &&
                   bind(handle, "curl_multi_cleanup", c.multi_cleanup, e);
  if (all && c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) e = "curl_global_init failed";
  return loaded;
}

}  // namespace

const CurlLibrary* curl_library(std::string* why) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.error.empty()) {
    if (why) *why = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace vmodem::sim::fota
