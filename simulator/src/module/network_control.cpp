// Module as a ControlTarget, the network part: `ctl network` sets the radio
// link every socket goes through and whether the module has coverage.
#include <spdlog/spdlog.h>

#include <vmodem/simulator/module.hpp>

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

}  // namespace vmodem::sim
