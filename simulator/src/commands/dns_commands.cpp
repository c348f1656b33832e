// Names and reachability on the module's packet network (BG95/BG96 TCP/IP
// application note): AT+QIDNSCFG, AT+QIDNSGIP and AT+QPING. Names resolve
// through net::Reach (IP literals, "localhost", --dns), never the host's
// resolver; a ping succeeds for an address the network reaches and times
// out for one it does not. The simulated network has no latency yet: a
// reply takes 1 ms.
//
//   AT+QIDNSGIP=1,"localhost"        AT+QPING=1,"127.0.0.1",1,2
//   OK                               OK
//   +QIURC: "dnsgip",0,1,600         +QPING: 0,"127.0.0.1",32,1,255
//   +QIURC: "dnsgip","127.0.0.1"     +QPING: 0,"127.0.0.1",32,1,255
//                                    +QPING: 0,2,2,0,1,1,1
#include <algorithm>
#include <memory>

#include <boost/asio/steady_timer.hpp>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "net/socket_service.hpp"

namespace vmodem::sim {

namespace {

using net::IpError;

constexpr std::uint32_t kDnsTtlSeconds = 600;
constexpr int kPingBytes = 32, kPingTtl = 255, kPingMillis = 1;

std::string code(IpError error) {
  return std::to_string(static_cast<int>(error));
}

void register_qidnscfg(at::Registry& registry, RuntimeState& radio) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [&radio](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid || call.command.args.size() > 3) return void(call.responder.error());
    auto& servers = radio.dns_servers[static_cast<int>(*cid)];
    if (call.command.args.size() == 1) {  // query
      const auto primary = servers.first.empty() ? std::string("10.64.0.1") : servers.first;
      const auto secondary = servers.second.empty() ? std::string("0.0.0.0") : servers.second;
      call.responder.info("+QIDNSCFG: " + std::to_string(*cid) + "," + quoted(primary) + "," +
                          quoted(secondary));
      return void(call.responder.ok());
    }
    boost::system::error_code ec;
    const auto primary = str_arg(call.command, 1);
    const auto secondary = str_arg(call.command, 2).value_or("0.0.0.0");
    if (!primary || (boost::asio::ip::make_address(*primary, ec), ec) ||
        (boost::asio::ip::make_address(secondary, ec), ec))
      return void(call.responder.error());
    servers = {*primary, secondary};
    call.responder.ok();
  };
  (void)registry.add("+QIDNSCFG", std::move(spec));
}

void register_qidnsgip(at::Registry& registry, const net::SocketService& sockets,
                       RuntimeState& radio, UrcSink& urcs) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [&sockets, &radio, &urcs](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    const auto name = str_arg(call.command, 1);
    if (!cid || !name || name->empty() || call.command.args.size() != 2)
      return void(call.responder.error());
    call.responder.ok();  // the URCs follow the OK
    if (!radio.active_contexts.contains(static_cast<int>(*cid)))
      return urcs.send_urc("+QIURC: \"dnsgip\"," + code(IpError::open_pdp_failed));
    const auto address = sockets.reach().resolve(*name);
    if (!address) return urcs.send_urc("+QIURC: \"dnsgip\"," + code(IpError::dns_parse_failed));
    urcs.send_urc("+QIURC: \"dnsgip\",0,1," + std::to_string(kDnsTtlSeconds));
    urcs.send_urc("+QIURC: \"dnsgip\"," + quoted(address->to_string()));
  };
  (void)registry.add("+QIDNSGIP", std::move(spec));
}

// One AT+QPING run: its replies, one by one. A reply takes the link's round
// trip (twice its latency, 1 ms at least); an unreachable address, a round
// trip longer than the timeout or a lost datagram (the link's UDP loss)
// costs the timeout, as on a real network.
struct PingRun : std::enable_shared_from_this<PingRun> {
  PingRun(boost::asio::io_context& io, UrcSink& sink, const net::SocketService& net)
      : timer(io), urcs(sink), sockets(net) {}
  boost::asio::steady_timer timer;
  UrcSink& urcs;
  const net::SocketService& sockets;
  std::string address;
  bool reachable = false;
  int count = 4, sent = 0, received = 0;
  std::chrono::seconds timeout{4};
  std::chrono::milliseconds round_trip{kPingMillis};

  void next() {
    if (sent == count) {
      const int lost = sent - received;
      const auto ms = received > 0 ? round_trip.count() : 0;
      urcs.send_urc("+QPING: 0," + std::to_string(sent) + "," + std::to_string(received) + "," +
                    std::to_string(lost) + "," + std::to_string(ms) + "," + std::to_string(ms) +
                    "," + std::to_string(ms));
      return;
    }
    ++sent;
    const bool answered = reachable && round_trip < timeout && !sockets.lose_datagram();
    if (answered && round_trip.count() <= kPingMillis) {
      reply();
      return next();
    }
    timer.expires_after(answered ? std::chrono::milliseconds(round_trip)
                                 : std::chrono::milliseconds(timeout));
    timer.async_wait([self = shared_from_this(), answered](const boost::system::error_code& e) {
      if (e) return;
      if (answered) {
        self->reply();
      } else {
        self->urcs.send_urc("+QPING: 569");  // operation timeout
      }
      self->next();
    });
  }
  void reply() {
    ++received;
    urcs.send_urc("+QPING: 0," + sim::quoted(address) + "," + std::to_string(kPingBytes) + "," +
                  std::to_string(round_trip.count()) + "," + std::to_string(kPingTtl));
  }
};

void register_qping(at::Registry& registry, const net::SocketService& sockets, RuntimeState& radio,
                    UrcSink& urcs, PowerControl& power, boost::asio::io_context& io) {
  // Pings still waiting end with the power (nothing after the next boot).
  auto running = std::make_shared<std::vector<std::weak_ptr<PingRun>>>();
  power.on_power_state([running](PowerState) {
    for (const auto& weak : *running) {
      if (auto run = weak.lock()) run->timer.cancel();
    }
    running->clear();
  });
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [&sockets, &radio, &urcs, &io, running](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    const auto host = str_arg(call.command, 1);
    const auto timeout = call.command.arg(2).is_omitted() ? std::optional<std::int64_t>(4)
                                                          : int_arg(call.command, 2, 1, 255);
    const auto count = call.command.arg(3).is_omitted() ? std::optional<std::int64_t>(4)
                                                        : int_arg(call.command, 3, 1, 10);
    if (!cid || !host || !timeout || !count || call.command.args.size() > 4)
      return void(call.responder.error());
    call.responder.ok();
    if (!radio.active_contexts.contains(static_cast<int>(*cid)))
      return urcs.send_urc("+QPING: " + code(IpError::open_pdp_failed));
    const auto address = sockets.reach().resolve(*host);
    if (!address) return urcs.send_urc("+QPING: " + code(IpError::dns_parse_failed));
    auto run = std::make_shared<PingRun>(io, urcs, sockets);
    run->round_trip =
        std::max(std::chrono::milliseconds(kPingMillis), 2 * sockets.conditions().latency);
    run->address = address->to_string();
    run->reachable = sockets.reach().allows(*address);
    run->count = static_cast<int>(*count);
    run->timeout = std::chrono::seconds(*timeout);
    std::erase_if(*running, [](const std::weak_ptr<PingRun>& weak) { return weak.expired(); });
    running->push_back(run);
    run->next();
  };
  (void)registry.add("+QPING", std::move(spec));
}

}  // namespace

void register_dns_commands(at::Registry& registry, const net::SocketService& sockets,
                           RuntimeState& radio, UrcSink& urcs, PowerControl& power,
                           boost::asio::io_context& io) {
  register_qidnscfg(registry, radio);
  register_qidnsgip(registry, sockets, radio, urcs);
  register_qping(registry, sockets, radio, urcs, power, io);
}

}  // namespace vmodem::sim
