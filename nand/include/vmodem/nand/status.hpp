// Error values returned across the nand/ boundary.
//
// Every device operation returns Status (success or Error) or Result<T>. No
// exception ever crosses this boundary: a power cut, a failed program or an
// ECC failure is data the layers above must look at, exactly as firmware on a
// real module looks at the NAND controller's status register.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace vmodem::nand {

enum class Errc : std::uint8_t {
  power_loss,          // power is off (cut); every access fails until power_up()
  program_fail,        // status FAIL after a program: the block is (now) bad
  erase_fail,          // status FAIL after an erase: the block is (now) bad
  uncorrectable,       // read: a sector had more bit errors than ECC can fix
  out_of_range,        // block/page/column/length outside the geometry
  order_violation,     // program of a page below one already programmed in its block
  nop_exceeded,        // more partial programs of a page than the profile's NOP
  cannot_set_bits,     // program asked for a 1 where the cell already holds 0
  invalid_argument,    // malformed request (wrong buffer size, bad rule, ...)
  io_error,            // the backing image could not be created, mapped or synced
  bad_image,           // an image file of another kind, version or geometry
  resource_exhausted,  // internal store full (e.g. too many damaged pages tracked)
  no_space,            // the host's disk cannot hold an image file
};

std::string_view to_string(Errc code);

// An error with the place it happened, so logs and tests can say "block 12
// page 3: program_fail" rather than just "failed".
struct Error {
  Errc code;
  std::int64_t block = -1;  // physical block, -1 when not about one block
  std::int64_t page = -1;   // page in block, -1 when not about one page
  std::string detail;       // human-readable context, may be empty

  std::string message() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(Errc code, std::int64_t block = -1, std::int64_t page = -1,
                                  std::string detail = {}) {
  return tl::unexpected<Error>(Error{code, block, page, std::move(detail)});
}

}  // namespace vmodem::nand
