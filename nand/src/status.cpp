#include <vmodem/nand/status.hpp>

namespace vmodem::nand {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::power_loss:
      return "power_loss";
    case Errc::program_fail:
      return "program_fail";
    case Errc::erase_fail:
      return "erase_fail";
    case Errc::uncorrectable:
      return "uncorrectable";
    case Errc::out_of_range:
      return "out_of_range";
    case Errc::order_violation:
      return "order_violation";
    case Errc::nop_exceeded:
      return "nop_exceeded";
    case Errc::cannot_set_bits:
      return "cannot_set_bits";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::io_error:
      return "io_error";
    case Errc::bad_image:
      return "bad_image";
    case Errc::resource_exhausted:
      return "resource_exhausted";
    case Errc::no_space:
      return "no_space";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string text{to_string(code)};
  if (block >= 0) text += " at block " + std::to_string(block);
  if (page >= 0) text += " page " + std::to_string(page);
  if (!detail.empty()) text += ": " + detail;
  return text;
}

}  // namespace vmodem::nand
