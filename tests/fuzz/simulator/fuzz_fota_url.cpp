// libFuzzer target: the AT+QFOTADL argument parser (the text a host sends is
// untrusted). Beyond not crashing, an accepted source must respect the DFOTA
// guide's limits, and the URL built for libcurl must parse back to the same
// server.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fota_download/fota_source.hpp"

using vmodem::sim::fota::SourceKind;

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto source = vmodem::sim::fota::parse_fota_source(text);
  if (!source) return 0;
  const std::string url = source->curl_url();
  const std::string redacted = source->redacted();
  if (source->kind == SourceKind::ufs) {
    require(!source->file.empty() && source->file.size() <= vmodem::sim::fota::kMaxFileArgBytes);
    require(source->file.find('/') == std::string::npos);
    return 0;
  }
  require(size >= source->path.size() && !source->path.empty() && source->port >= 1);
  require(!source->host.empty());
  if (source->kind == SourceKind::ftp) {
    for (const auto* field : {&source->user, &source->password, &source->host, &source->path})
      require(field->size() <= vmodem::sim::fota::kMaxFtpFieldBytes);
  }
  require(url.find(source->host + ":" + std::to_string(source->port) + "/") != std::string::npos);
  require(url.find_first_of(" \r\n\t") == std::string::npos);  // control bytes are encoded
  if (!source->password.empty()) require(redacted.find(":***@") != std::string::npos);
  return 0;
}
