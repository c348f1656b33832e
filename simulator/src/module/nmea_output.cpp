// Module: the GNSS receiver's sentences on the NMEA port, once a second, as
// a BG95 sends them while a session runs (AT+QGPS=1) and
// AT+QGPSCFG="outport" is "usbnmea" (the default). A host that has the port
// open reads them (gpsd, `cat /path/ttyUSB1`); nobody reading loses them.
#include <chrono>

#include <vmodem/simulator/module.hpp>

#include "commands/gnss.hpp"

namespace vmodem::sim {

void Module::tick_nmea(std::uint64_t epoch) {
  nmea_timer_->expires_after(std::chrono::seconds(1));
  nmea_timer_->async_wait([this, epoch](const boost::system::error_code& ec) {
    // A power transition since (epoch) ends the ticking; RDY starts it anew.
    if (ec || epoch != epoch_) return;
    const auto port = ports_.find("nmea");
    if (port != ports_.end() && gnss_->outport() == "usbnmea") {
      for (const auto& sentence : gnss_->nmea_burst())
        port->second->send_line(sentence);
    }
    tick_nmea(epoch);
  });
}

}  // namespace vmodem::sim
