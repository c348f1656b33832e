#include "fota_download/fota_source.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace vmodem::sim::fota {

namespace {

using Result = tl::expected<FotaSource, SourceError>;

tl::unexpected<SourceError> refuse(std::string message) {
  return tl::unexpected(SourceError{std::move(message)});
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
    return std::toupper(static_cast<unsigned char>(a)) ==
           std::toupper(static_cast<unsigned char>(b));
  });
}

bool has_control_byte(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool valid_host(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

// A flat name in the AP file system, as the file commands accept it.
bool valid_file_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.front() == '.') return false;
  if (has_control_byte(name)) return false;
  return name.find_first_of("/\\:*?\"") == std::string_view::npos;
}

tl::expected<std::uint16_t, SourceError> parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return refuse("bad port");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value < 1 || value > 65535)
    return refuse("port out of 1-65535");
  return static_cast<std::uint16_t>(value);
}

// "<host>[:<port>]" into the source.
tl::expected<void, SourceError> parse_host_port(std::string_view text, std::uint16_t fallback,
                                                FotaSource& source) {
  const auto colon = text.find(':');
  source.host = std::string(text.substr(0, colon));
  if (!valid_host(source.host)) return refuse("bad host");
  source.port = fallback;
  if (colon == std::string_view::npos) return {};
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return tl::unexpected(port.error());
  source.port = *port;
  return {};
}

// "<authority>/<path>": the text after the scheme's "//".
tl::expected<void, SourceError> split_authority(std::string_view rest, std::string_view& authority,
                                                FotaSource& source) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return refuse("no file path");
  authority = rest.substr(0, slash);
  source.path = std::string(rest.substr(slash + 1));
  if (source.path.empty() || source.path.back() == '/') return refuse("no file name in the path");
  if (has_control_byte(source.path)) return refuse("control byte in the path");
  return {};
}

Result parse_ftp(std::string_view rest) {
  FotaSource source;
  source.kind = SourceKind::ftp;
  std::string_view authority;
  if (auto ok = split_authority(rest, authority, source); !ok) return tl::unexpected(ok.error());
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    source.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) source.password = std::string(userinfo.substr(colon + 1));
    if (source.user.empty()) return refuse("empty user name");
    if (has_control_byte(userinfo)) return refuse("control byte in the user part");
    authority.remove_prefix(at + 1);
  }
  if (auto ok = parse_host_port(authority, 21, source); !ok) return tl::unexpected(ok.error());
  for (const std::string* field : {&source.user, &source.password, &source.host, &source.path}) {
    if (field->size() > kMaxFtpFieldBytes) return refuse("a field is longer than 50 bytes");
  }
  return source;
}

Result parse_http(std::string_view rest) {
  FotaSource source;
  source.kind = SourceKind::http;
  std::string_view authority;
  if (auto ok = split_authority(rest, authority, source); !ok) return tl::unexpected(ok.error());
  if (authority.find('@') != std::string_view::npos) return refuse("user part in an HTTP URL");
  if (auto ok = parse_host_port(authority, 80, source); !ok) return tl::unexpected(ok.error());
  return source;
}

// An absolute path ("/usrdata/fota.pkg"): a Linux-based module's package
// by its place in the module's Linux tree (the module resolves it).
bool valid_linux_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  if (path.find_first_of("\\*?\"") != std::string_view::npos) return false;
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (part == "." || part == ".." || part.empty() || has_control_byte(part)) return false;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

Result parse_file(std::string_view text) {
  if (text.size() > kMaxFileArgBytes) return refuse("file name argument longer than 128 bytes");
  if (starts_with_nocase(text, "UFS:")) text.remove_prefix(4);
  if (!text.empty() && text.front() == '/') {
    if (!valid_linux_path(text)) return refuse("not a usable absolute path");
  } else if (!valid_file_name(text)) {
    return refuse("not a flat UFS file name");
  }
  FotaSource source;
  source.kind = SourceKind::ufs;
  source.file = std::string(text);
  return source;
}

// Percent-encodes what may not appear literally in that part of a URL.
std::string encode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view("-._~").find(c) != std::string_view::npos ||
        keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string build_url(const FotaSource& s, bool with_password) {
  std::string url = s.kind == SourceKind::ftp ? "ftp://" : "http://";
  if (!s.user.empty()) {
    url += encode(s.user, "");
    if (!s.password.empty()) url += ":" + (with_password ? encode(s.password, "") : "***");
    url += "@";
  }
  // Sub-delimiters, '/', '%' (already encoded by the host), '?' (a query).
  url += s.host + ":" + std::to_string(s.port) + "/" + encode(s.path, "/%?&=+!$'()*,;:@");
  return url;
}

}  // namespace

std::string FotaSource::curl_url() const {
  return kind == SourceKind::ufs ? "UFS:" + file : build_url(*this, true);
}

std::string FotaSource::redacted() const {
  return kind == SourceKind::ufs ? "UFS:" + file : build_url(*this, false);
}

Result parse_fota_source(std::string_view text) {
  text = trim(text);
  if (text.empty()) return refuse("empty argument");
  const bool ftp = starts_with_nocase(text, "FTP://");
  const bool http = starts_with_nocase(text, "HTTP://");
  if (!ftp && !http) return parse_file(text);
  if (text.size() > kMaxUrlBytes) return refuse("URL longer than 255 bytes");
  return ftp ? parse_ftp(text.substr(6)) : parse_http(text.substr(7));
}

}  // namespace vmodem::sim::fota
