// Module as a ControlTarget, the world around it: `ctl network` sets the
// radio link every socket goes through and whether the module has coverage;
// `ctl gnss` where it is and whether it sees the sky.
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

#include "commands/gnss.hpp"
#include "commands/registration.hpp"
#include "net/socket_service.hpp"

namespace vmodem::sim {

namespace {

net::LinkConditions conditions_for(const net::LinkConditions& now, const NetworkRequest& request) {
  net::LinkConditions next = request.clear ? net::LinkConditions{} : now;
  if (request.latency_ms) next.latency = std::chrono::milliseconds(*request.latency_ms);
  if (request.bandwidth_kbps) next.bandwidth_bps = *request.bandwidth_kbps * 1000U;
  if (request.udp_loss_percent) next.udp_loss = *request.udp_loss_percent / 100.0;
  return next;
}

}  // namespace

Controlled<NetworkReport> Module::network(const NetworkRequest& request) {
  if (request.udp_loss_percent &&
      !(*request.udp_loss_percent >= 0.0 && *request.udp_loss_percent <= 100.0)) {
    return tl::unexpected(ControlError{"InvalidParameter", "udp-loss is a percentage: 0 to 100"});
  }
  const auto conditions = conditions_for(sockets_->conditions(), request);
  if (conditions != sockets_->conditions()) {
    sockets_->set_conditions(conditions, options_.seeds.network());
    log_->info(
        "network: latency {} ms, bandwidth {}, UDP loss {}% (seed {})", conditions.latency.count(),
        conditions.bandwidth_bps ? std::to_string(conditions.bandwidth_bps / 1000) + " kbit/s"
                                 : std::string("not capped"),
        conditions.udp_loss * 100.0, options_.seeds.network());
  }
  const bool coverage = request.clear ? true : request.coverage.value_or(runtime_.in_coverage);
  if (coverage != runtime_.in_coverage) {
    const bool was_registered = runtime_.registered();
    runtime_.in_coverage = coverage;
    log_->info("network: coverage {}", coverage ? "back" : "lost (detach)");
    // Only a module that is on tells the host; one that is off finds the
    // coverage so when it boots.
    if (state_ == PowerState::rdy || state_ == PowerState::app_rdy) {
      settle_registration(was_registered, profile_.network, runtime_, *this,
                          [this](int cid) { sockets_->context_down(cid, true); });
    }
  }
  return NetworkReport{.latency_ms = static_cast<std::uint64_t>(conditions.latency.count()),
                       .bandwidth_kbps = conditions.bandwidth_bps / 1000U,
                       .udp_loss_percent = conditions.udp_loss * 100.0,
                       .coverage = runtime_.in_coverage,
                       .registered = runtime_.registered(),
                       .loss_seed = options_.seeds.network()};
}

Controlled<GnssReport> Module::gnss(const GnssRequest& request) {
  if (request.latitude.has_value() != request.longitude.has_value()) {
    return tl::unexpected(ControlError{"InvalidParameter", "latitude and longitude go together"});
  }
  const auto in = [](const std::optional<double>& value, double limit) {
    return !value || (*value >= -limit && *value <= limit);
  };
  if (!in(request.latitude, 90.0) || !in(request.longitude, 180.0) ||
      !in(request.altitude_m, 20000.0)) {
    return tl::unexpected(
        ControlError{"InvalidParameter",
                     "latitude within ±90, longitude within ±180, altitude within ±20000 m"});
  }
  if (request.latitude || request.altitude_m) {
    const auto& now = gnss_->position();
    gnss_->move_to(request.latitude.value_or(now.latitude),
                   request.longitude.value_or(now.longitude), request.altitude_m);
    log_->info("gnss: the module is now at {:.5f}, {:.5f}, {:.1f} m", now.latitude, now.longitude,
               now.altitude_m);
  }
  if (request.signal) gnss_->set_signal(*request.signal);
  const auto& where = gnss_->position();
  return GnssReport{.session = gnss_->on(),
                    .fixed = gnss_->fix().has_value(),
                    .signal = gnss_->signal(),
                    .latitude = where.latitude,
                    .longitude = where.longitude,
                    .altitude_m = where.altitude_m};
}

}  // namespace vmodem::sim
