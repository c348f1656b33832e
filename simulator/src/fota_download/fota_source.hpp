// Where AT+QFOTADL takes its delta package from (DFOTA guide §3, SPEC §7):
// a file in the module's file system, or a file on an FTP or HTTP server.
//
// parse_fota_source() checks the argument exactly as the guide states it,
// with no I/O, so bad syntax can be refused with ERROR at once:
//
//   "UFS:<name>" or "<name>"             at most 128 bytes; a flat UFS name
//   "FTP://[<user>[:<pass>]@]<host>[:<port>]/<path>"
//   "HTTP://<host>[:<port>]/<path>"      at most 255 bytes
//
// * Schemes are case-insensitive ("ftp://", "Http://" too); HTTPS is not in
//   the guide and is refused.
// * Spaces and tabs around the text are ignored: the guide's own HTTP example
//   is `" HTTP://www.example.com:80/delta.bin "`. The length limits apply to
//   the trimmed text.
// * FTP: user, password, host and path at most 50 bytes each (the path
//   without its leading '/'); no user means anonymous. The user ends at the
//   first ':', the password runs to the last '@' before the first '/'.
// * Port 1-65535, default 21 (FTP) / 80 (HTTP). Host: letters, digits, '.',
//   '-', '_' (names and IPv4 literals; the guide shows no IPv6 form).
// * Path: not empty, no control bytes; no user part in an HTTP URL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace vmodem::sim::fota {

enum class SourceKind { ufs, ftp, http };

struct FotaSource {
  SourceKind kind = SourceKind::ufs;
  std::string file;            // ufs: the file name (no "UFS:" prefix), or an absolute Linux path
  std::string user, password;  // ftp only; empty user: anonymous
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // without the leading '/'

  // The URL handed to libcurl ("ftp://user:pass@host:21/path"), with the
  // user, password and path percent-encoded where URL syntax needs it.
  std::string curl_url() const;
  // The same without the password, for logs.
  std::string redacted() const;
};

// Why an argument was refused (for the log; the host only sees ERROR).
struct SourceError {
  std::string message;
};

inline constexpr std::size_t kMaxFileArgBytes = 128;
inline constexpr std::size_t kMaxUrlBytes = 255;
inline constexpr std::size_t kMaxFtpFieldBytes = 50;

tl::expected<FotaSource, SourceError> parse_fota_source(std::string_view text);

}  // namespace vmodem::sim::fota
