// Manufacture: a module image as the factory ships it.
//
// There is one way an image gets its factory state: a module's first
// power-on (Module boots a flash it created and formats both file systems
// with their factory files, takes the production-line backups and writes the
// NV defaults). `vmodem image create` and the template of `vmodem run
// --count` go through exactly that boot, in-process and with no ports, so an
// image made offline is the image a first `vmodem run` would have made.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/profile.hpp>

namespace spdlog {
class logger;
}

namespace vmodem::sim {

struct ManufactureError {
  enum class Kind {
    image,     // the image could not be created (it exists, bad path, I/O)
    no_space,  // the host's disk cannot hold it
    boot,      // the first power-on did not reach APP RDY (a profile or firmware fault)
  };
  Kind kind = Kind::image;
  std::string message;
};

// Creates `image` (which must not exist) for `profile` with `seeds`, boots it
// once to APP RDY (RDY where the firmware prints no APP RDY) and powers it
// off in order. `log` gets the boot's lines (nullptr: spdlog's default
// logger). On failure an image this call created is removed again; nothing
// else is ever touched. Blocks the calling thread for the boot (fast mode:
// tens of milliseconds).
tl::expected<void, ManufactureError> manufacture_image(const Profile& profile,
                                                       const std::filesystem::path& image,
                                                       Seeds seeds,
                                                       std::shared_ptr<spdlog::logger> log);

}  // namespace vmodem::sim
