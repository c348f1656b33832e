// Error names and messages.
#include <vmodem/fs/filesystem.hpp>

#include "volume.hpp"

namespace vmodem::fs {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::not_found:
      return "not_found";
    case Errc::exists:
      return "exists";
    case Errc::not_dir:
      return "not_dir";
    case Errc::is_dir:
      return "is_dir";
    case Errc::not_empty:
      return "not_empty";
    case Errc::invalid_name:
      return "invalid_name";
    case Errc::name_too_long:
      return "name_too_long";
    case Errc::no_space:
      return "no_space";
    case Errc::file_too_large:
      return "file_too_large";
    case Errc::too_many_open:
      return "too_many_open";
    case Errc::bad_handle:
      return "bad_handle";
    case Errc::busy:
      return "busy";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::read_only:
      return "read_only";
    case Errc::io_error:
      return "io_error";
    case Errc::corrupt:
      return "corrupt";
    case Errc::power_loss:
      return "power_loss";
    case Errc::check_failed:
      return "check_failed";
    case Errc::unsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string s(to_string(code));
  if (check) s += ": " + check->describe();
  if (!detail.empty()) s += ": " + detail;
  return s;
}

}  // namespace vmodem::fs
