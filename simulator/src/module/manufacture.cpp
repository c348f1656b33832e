// manufacture_image: the first power-on of a module nobody talks to.
#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <vmodem/simulator/manufacture.hpp>
#include <vmodem/simulator/module.hpp>

namespace vmodem::sim {

namespace {

// Far longer than a fast-mode boot (tens of ms) and than a real-time one
// (seconds): only a boot that hangs reaches it.
constexpr auto kBootDeadline = std::chrono::seconds(60);

// Boots `module` until it is up; false if it never got there.
bool boot_once(boost::asio::io_context& io, Module& module) {
  bool up = false;
  module.on_power_state([&](PowerState state) {
    if (state != PowerState::app_rdy) return;
    up = true;
    io.stop();
  });
  // A file system that did not come up (its factory files did not go in)
  // ends the first power-on at once: there is no APP RDY to wait for.
  const auto listener = module.subscribe([&](const nlohmann::json& event) {
    if (event.value("event", std::string()) == "BOOT_FAILED") io.stop();
  });
  boost::asio::steady_timer deadline(io, kBootDeadline);
  deadline.async_wait([&](const boost::system::error_code&) { io.stop(); });
  if (!module.power_on()) {
    module.unsubscribe(listener);
    return false;
  }
  io.run();
  module.unsubscribe(listener);
  return up;
}

}  // namespace

tl::expected<void, ManufactureError> manufacture_image(const Profile& profile,
                                                       const std::filesystem::path& image,
                                                       Seeds seeds,
                                                       std::shared_ptr<spdlog::logger> log) {
  boost::asio::io_context io;
  ModuleOptions options;
  options.image = image;
  options.new_image = true;
  options.ports = false;
  options.seeds = seeds;
  options.log = std::move(log);
  auto cause = nand::Errc::bad_image;
  auto module = Module::create(io, profile, options, &cause);
  if (!module) {
    return tl::unexpected(ManufactureError{cause == nand::Errc::no_space
                                               ? ManufactureError::Kind::no_space
                                               : ManufactureError::Kind::image,
                                           module.error()});
  }
  const bool up = boot_once(io, **module);
  (*module)->shutdown();  // orderly: the file systems are synced, the image flushed
  module->reset();
  if (!up) {
    std::error_code ec;
    std::filesystem::remove(image, ec);  // created by this call (new_image)
    return tl::unexpected(ManufactureError{
        ManufactureError::Kind::boot,
        "the module did not come up at its first power-on; see the log lines above"});
  }
  return {};
}

}  // namespace vmodem::sim
