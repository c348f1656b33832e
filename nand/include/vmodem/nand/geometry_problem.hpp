// What a layer above the chip finds wrong with a geometry it is asked to
// live on.
#pragma once

#include <cstdint>
#include <string>

#include <vmodem/nand/geometry.hpp>

namespace vmodem::nand {

// Why a layer (file system, backup, FOTA area) cannot serve a partition of a
// geometry: which dimension falls short and what that layer needs, so a
// profile error can name its field.
struct GeometryProblem {
  enum class Field : std::uint8_t { page_size, spare_size, blocks };
  Field field = Field::blocks;
  std::string message;  // e.g. "the file system needs 34 to 256 spare bytes per page ..."
};

}  // namespace vmodem::nand
