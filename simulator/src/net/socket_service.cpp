#include "net/socket_service.hpp"

#include <algorithm>
#include <deque>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace vmodem::sim::net {

namespace ip = boost::asio::ip;
using boost::system::error_code;

std::string_view to_string(ServiceType type) {
  switch (type) {
    case ServiceType::tcp:
      return "TCP";
    case ServiceType::udp:
      return "UDP";
    case ServiceType::tcp_listener:
      return "TCP LISTENER";
    case ServiceType::udp_service:
      return "UDP SERVICE";
    case ServiceType::tcp_incoming:
      return "TCP INCOMING";
  }
  return "TCP";
}

std::optional<ServiceType> service_type_from(std::string_view name) {
  for (const auto type :
       {ServiceType::tcp, ServiceType::udp, ServiceType::tcp_listener, ServiceType::udp_service}) {
    if (name == to_string(type)) return type;
  }
  return std::nullopt;
}

std::string_view describe(IpError error) {
  switch (error) {
    case IpError::ok:
      return "No Error";
    case IpError::unknown:
      return "Unknown error";
    case IpError::invalid_parameters:
      return "Invalid parameters";
    case IpError::socket_create_failed:
      return "Create socket failed";
    case IpError::not_supported:
      return "Operation not supported";
    case IpError::socket_bind_failed:
      return "Socket bind failed";
    case IpError::socket_write_failed:
      return "Socket write failed";
    case IpError::open_pdp_failed:
      return "Open PDP context failed";
    case IpError::socket_identity_used:
      return "Socket identity has been used";
    case IpError::dns_parse_failed:
      return "DNS parse failed";
    case IpError::socket_connect_failed:
      return "Socket connect failed";
    case IpError::socket_closed:
      return "Socket has been closed";
    case IpError::operation_not_allowed:
      return "Operation not allowed";
  }
  return "Unknown error";
}

// One socket service. Its asio handlers hold it weakly: a socket closed or
// dropped is gone, and a completion that finds it gone does nothing.
struct SocketService::Socket {
  explicit Socket(boost::asio::io_context& io) : tcp(io), udp(io), acceptor(io) {}
  OpenRequest request;
  SocketState state = SocketState::opening;
  int server_id = 0;  // TCP INCOMING: its listener
  ip::tcp::socket tcp;
  ip::udp::socket udp;
  ip::tcp::acceptor acceptor;  // TCP LISTENER
  ip::udp::endpoint sender;    // UDP SERVICE: of the datagram being received
  std::array<std::uint8_t, 4096> buffer{};
  // Buffer access: received data not read yet, one entry per datagram (UDP)
  // or per arrival (TCP); a UDP SERVICE's with its sender.
  std::deque<Chunk> unread;
  std::size_t unread_bytes = 0;
  bool recv_reported = false;  // +QIURC: "recv" said; not again until all is read
  bool reading = false;
  std::uint64_t received = 0, read = 0;
  // Sending: queued in order, one write at a time; a UDP SERVICE's with its
  // destination.
  std::deque<Chunk> outgoing;
  std::size_t outgoing_bytes = 0;
  bool writing = false;
  // Transparent access: the port's link (online, or suspended by `+++`).
  at::OnlineLink link;
  // The radio link's delays, each way; made when first needed.
  std::unique_ptr<DelayLine> uplink, downlink;
  std::uint64_t sent = 0, acked = 0;

  bool is_stream() const {
    return request.type == ServiceType::tcp || request.type == ServiceType::tcp_incoming;
  }
  bool is_service() const { return request.type == ServiceType::udp_service; }
  void abort() {
    error_code ignored;
    if (tcp.is_open()) {
      // SO_LINGER 0: the peer sees a reset, as when a module loses power.
      tcp.set_option(ip::tcp::socket::linger(true, 0), ignored);
      tcp.close(ignored);
    }
    udp.close(ignored);
    acceptor.close(ignored);
  }
};

SocketService::SocketService(boost::asio::io_context& io, const Reach& reach, spdlog::logger& log,
                             std::function<void(const std::string&)> urc)
    : io_(io), reach_(reach), log_(log), urc_(std::move(urc)) {}

SocketService::~SocketService() {
  drop_all();
}

void SocketService::report(const std::string& urc) const {
  if (urc_) urc_(urc);
}

std::shared_ptr<SocketService::Socket> SocketService::at(int id) const {
  if (id < 0 || id >= kSocketCount) return nullptr;
  return sockets_[static_cast<std::size_t>(id)];
}

bool SocketService::current(const std::shared_ptr<Socket>& socket) const {
  return at(socket->request.id) == socket;
}

void SocketService::refuse(int id, IpError error) {
  last_error_ = error;
  report("+QIOPEN: " + std::to_string(id) + "," + std::to_string(static_cast<int>(error)));
}

void SocketService::open(const OpenRequest& request) {
  const auto fail = [&](IpError error) {
    if (!request.on_opened) return refuse(request.id, error);
    last_error_ = error;
    request.on_opened(error);
  };
  if (request.id < 0 || request.id >= kSocketCount) return fail(IpError::invalid_parameters);
  auto& slot = sockets_[static_cast<std::size_t>(request.id)];
  if (slot) return fail(IpError::socket_identity_used);
  const bool client = request.type == ServiceType::tcp || request.type == ServiceType::udp;
  if (request.mode == AccessMode::transparent && !client) {
    log_.warn("AT+QIOPEN: {} has no transparent access mode", to_string(request.type));
    return fail(IpError::not_supported);
  }
  const bool server =
      request.type == ServiceType::tcp_listener || request.type == ServiceType::udp_service;
  // A server listens on the module's own address: loopback here.
  const auto address = server ? std::optional(ip::address(ip::address_v4::loopback()))
                              : reach_.resolve(request.host);
  if (!address) {
    log_.info("AT+QIOPEN: cannot resolve '{}' (known: IP literals, localhost, --dns names)",
              request.host);
    return fail(IpError::dns_parse_failed);
  }
  if (!reach_.allows(*address)) {
    log_.warn("AT+QIOPEN: {} is outside the module's network ({}); allow it with --allow-net",
              address->to_string(), reach_.describe());
    return fail(IpError::socket_connect_failed);
  }
  auto socket = std::make_shared<Socket>(io_);
  socket->request = request;
  slot = socket;
  switch (request.type) {
    case ServiceType::tcp:
      return connect_tcp(socket, *address);
    case ServiceType::udp:
      return connect_udp(socket, *address);
    case ServiceType::tcp_listener:
      return listen_tcp(socket, *address);
    case ServiceType::udp_service:
      return bind_udp_service(socket, *address);
    case ServiceType::tcp_incoming:
      break;
  }
}

void SocketService::connect_tcp(const std::shared_ptr<Socket>& socket, const ip::address& address) {
  const ip::tcp::endpoint remote(address, socket->request.remote_port);
  error_code ec;
  socket->tcp.open(remote.protocol(), ec);
  if (ec) return opened(socket, IpError::socket_create_failed);
  if (socket->request.local_port != 0) {
    socket->tcp.set_option(ip::tcp::socket::reuse_address(true), ec);
    socket->tcp.bind(ip::tcp::endpoint(remote.protocol(), socket->request.local_port), ec);
    if (ec) return opened(socket, IpError::socket_bind_failed);
  }
  socket->tcp.async_connect(remote, [this, weak = std::weak_ptr(socket)](const error_code& e) {
    auto self = weak.lock();
    if (!self || !current(self)) return;
    if (e) log_.info("AT+QIOPEN: connect {}: {}", self->request.id, e.message());
    opened(self, e ? IpError::socket_connect_failed : IpError::ok);
  });
}

void SocketService::connect_udp(const std::shared_ptr<Socket>& socket, const ip::address& address) {
  const ip::udp::endpoint remote(address, socket->request.remote_port);
  error_code ec;
  socket->udp.open(remote.protocol(), ec);
  if (ec) return opened(socket, IpError::socket_create_failed);
  if (socket->request.local_port != 0) {
    socket->udp.bind(ip::udp::endpoint(remote.protocol(), socket->request.local_port), ec);
    if (ec) return opened(socket, IpError::socket_bind_failed);
  }
  socket->udp.connect(remote, ec);  // no packet: fixes the peer and the local port
  report_after_ok(socket, ec ? IpError::socket_connect_failed : IpError::ok);
}

void SocketService::listen_tcp(const std::shared_ptr<Socket>& socket, const ip::address& address) {
  const ip::tcp::endpoint local(address, socket->request.local_port);
  error_code ec;
  socket->acceptor.open(local.protocol(), ec);
  if (!ec) socket->acceptor.set_option(ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) socket->acceptor.bind(local, ec);
  if (ec) return report_after_ok(socket, IpError::socket_bind_failed);
  socket->acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return report_after_ok(socket, IpError::socket_bind_failed);
  report_after_ok(socket, IpError::ok);
}

void SocketService::bind_udp_service(const std::shared_ptr<Socket>& socket,
                                     const ip::address& address) {
  const ip::udp::endpoint local(address, socket->request.local_port);
  error_code ec;
  socket->udp.open(local.protocol(), ec);
  if (!ec) socket->udp.bind(local, ec);
  report_after_ok(socket, ec ? IpError::socket_bind_failed : IpError::ok);
}

// Reported from the loop, like a TCP connect, after the command's OK.
void SocketService::report_after_ok(const std::shared_ptr<Socket>& socket, IpError error) {
  boost::asio::post(io_, [this, weak = std::weak_ptr(socket), error] {
    auto self = weak.lock();
    if (self && current(self)) opened(self, error);
  });
}

void SocketService::opened(const std::shared_ptr<Socket>& socket, IpError error) {
  const int id = socket->request.id;
  // Told once: a transparent open's caller, or the host by URC.
  const auto on_opened = std::exchange(socket->request.on_opened, nullptr);
  if (error != IpError::ok) {
    socket->abort();
    sockets_[static_cast<std::size_t>(id)].reset();
    last_error_ = error;
  } else {
    error_code ec;
    const bool listener = socket->request.type == ServiceType::tcp_listener;
    socket->state = listener ? SocketState::listening : SocketState::connected;
    const auto local = listener              ? socket->acceptor.local_endpoint(ec).port()
                       : socket->is_stream() ? socket->tcp.local_endpoint(ec).port()
                                             : socket->udp.local_endpoint(ec).port();
    if (!ec) socket->request.local_port = local;
    if (listener) {
      accept_next(socket);
    } else {
      start_reading(socket);
    }
  }
  if (on_opened) return on_opened(error);
  report("+QIOPEN: " + std::to_string(id) + "," + std::to_string(static_cast<int>(error)));
}

void SocketService::accept_next(const std::shared_ptr<Socket>& listener) {
  listener->acceptor.async_accept(
      [this, weak = std::weak_ptr(listener)](const error_code& e, ip::tcp::socket peer) {
        auto self = weak.lock();
        if (!self || !current(self) || e) return;
        const auto free = std::find(sockets_.begin(), sockets_.end(), nullptr);
        error_code ec;
        const auto remote = peer.remote_endpoint(ec);
        if (free == sockets_.end() || ec) {
          log_.warn("TCP LISTENER {}: no free connectID for {}; refused", self->request.id,
                    remote.address().to_string());
          peer.close(ec);
          return accept_next(self);
        }
        auto incoming = std::make_shared<Socket>(io_);
        incoming->request = self->request;
        incoming->request.id = static_cast<int>(free - sockets_.begin());
        incoming->request.type = ServiceType::tcp_incoming;
        incoming->request.host = remote.address().to_string();
        incoming->request.remote_port = remote.port();
        incoming->server_id = self->request.id;
        incoming->state = SocketState::connected;
        incoming->tcp = std::move(peer);
        *free = incoming;
        report("+QIURC: \"incoming\"," + std::to_string(incoming->request.id) + "," +
               std::to_string(self->request.id) + ",\"" + incoming->request.host + "\"," +
               std::to_string(incoming->request.remote_port));
        start_reading(incoming);
        accept_next(self);
      });
}

void SocketService::start_reading(const std::shared_ptr<Socket>& socket) {
  if (socket->reading || socket->state != SocketState::connected) return;
  // A full buffer stops reading until the host reads: TCP's window closes.
  if (socket->request.mode == AccessMode::buffer && socket->unread_bytes >= kReceiveBufferBytes)
    return;
  // Data still crossing the radio link counts as received.
  if (socket->downlink && socket->downlink->bytes_in_flight() >= kReceiveBufferBytes) return;
  // A host that is not reading its port stops the peer the same way.
  if (socket->request.mode == AccessMode::transparent && !socket->link.has_room()) return;
  socket->reading = true;
  auto done = [this, weak = std::weak_ptr(socket)](const error_code& e, std::size_t n) {
    auto self = weak.lock();
    if (!self || !current(self)) return;
    self->reading = false;
    if (e) {
      // A UDP error (ICMP port unreachable) is not the end of the socket.
      if (self->is_stream()) return peer_closed(self);
      if (e == boost::asio::error::operation_aborted) return;
    } else {
      std::optional<ip::udp::endpoint> from;
      if (self->is_service()) from = self->sender;
      arrived(self, std::span<const std::uint8_t>(self->buffer.data(), n), from);
    }
    start_reading(self);
  };
  if (socket->is_stream()) {
    socket->tcp.async_read_some(boost::asio::buffer(socket->buffer), std::move(done));
  } else if (socket->is_service()) {
    socket->udp.async_receive_from(boost::asio::buffer(socket->buffer), socket->sender,
                                   std::move(done));
  } else {
    socket->udp.async_receive(boost::asio::buffer(socket->buffer), std::move(done));
  }
}

namespace {

// ,"<ip>",<port> after a UDP SERVICE's length.
std::string sender_suffix(const std::optional<ip::udp::endpoint>& from) {
  if (!from) return {};
  return ",\"" + from->address().to_string() + "\"," + std::to_string(from->port());
}

}  // namespace

void SocketService::arrived(const std::shared_ptr<Socket>& socket,
                            std::span<const std::uint8_t> bytes,
                            const std::optional<ip::udp::endpoint>& from) {
  if (!socket->is_stream() && lose_datagram()) {
    log_.debug("socket {}: the link lost a datagram of {} bytes", socket->request.id, bytes.size());
    return;
  }
  if (!conditions_.delays()) return received(socket, bytes, from);
  if (!socket->downlink) {
    socket->downlink =
        std::make_unique<DelayLine>(io_, [this, weak = std::weak_ptr(socket)](Chunk chunk) {
          auto self = weak.lock();
          if (!self || !current(self)) return;
          received(self, chunk.bytes, chunk.peer);
          start_reading(self);
        });
  }
  socket->downlink->push(Chunk{{bytes.begin(), bytes.end()}, from}, conditions_);
}

void SocketService::received(const std::shared_ptr<Socket>& socket,
                             std::span<const std::uint8_t> bytes,
                             const std::optional<ip::udp::endpoint>& from) {
  socket->received += bytes.size();
  socket->unread.push_back({{bytes.begin(), bytes.end()}, from});
  socket->unread_bytes += bytes.size();
  deliver_unread(socket);
}

void SocketService::deliver_unread(const std::shared_ptr<Socket>& socket) {
  const std::string id = std::to_string(socket->request.id);
  const AccessMode mode = socket->request.mode;
  if (mode == AccessMode::buffer || (mode == AccessMode::transparent && !socket->link.online())) {
    if (!socket->unread.empty() && !socket->recv_reported) {
      socket->recv_reported = true;
      report("+QIURC: \"recv\"," + id);
    }
    return;
  }
  while (!socket->unread.empty()) {
    const auto chunk = std::move(socket->unread.front());
    socket->unread.pop_front();
    socket->unread_bytes -= chunk.bytes.size();
    socket->read += chunk.bytes.size();
    const std::span<const std::uint8_t> bytes(chunk.bytes);
    if (mode == AccessMode::transparent) {
      (void)socket->link.write(bytes);
      continue;
    }
    for (std::size_t at = 0; at < bytes.size(); at += kMaxReadBytes) {
      const auto piece = bytes.subspan(at, std::min(kMaxReadBytes, bytes.size() - at));
      report("+QIURC: \"recv\"," + id + "," + std::to_string(piece.size()) +
             sender_suffix(chunk.peer) + "\r\n" + std::string(piece.begin(), piece.end()));
    }
  }
  socket->recv_reported = false;
}

void SocketService::peer_closed(const std::shared_ptr<Socket>& socket) {
  if (socket->state == SocketState::closing) return;
  socket->state = SocketState::closing;
  error_code ignored;
  socket->tcp.close(ignored);
  // Online, the host hears NO CARRIER instead of a URC, once the data
  // received before the close is out.
  const bool online = socket->link.online();
  socket->link.hang_up();
  if (online) return;
  // Data still unread stays readable until AT+QICLOSE.
  report("+QIURC: \"closed\"," + std::to_string(socket->request.id));
}

bool SocketService::close(int id) {
  if (id < 0 || id >= kSocketCount) return false;
  auto& slot = sockets_[static_cast<std::size_t>(id)];
  if (!slot) return false;
  slot->link.hang_up();
  error_code ignored;
  slot->tcp.shutdown(ip::tcp::socket::shutdown_both, ignored);
  slot->tcp.close(ignored);
  slot->udp.close(ignored);
  slot->acceptor.close(ignored);
  slot.reset();
  return true;
}

std::optional<SocketInfo> SocketService::info(int id) const {
  const auto s = at(id);
  if (!s) return std::nullopt;
  return SocketInfo{.id = id,
                    .type = s->request.type,
                    .address = s->request.host,
                    .remote_port = s->request.remote_port,
                    .local_port = s->request.local_port,
                    .state = s->state,
                    .context = s->request.context,
                    .mode = s->request.mode,
                    .server_id = s->server_id};
}

std::vector<SocketInfo> SocketService::list() const {
  std::vector<SocketInfo> out;
  for (int id = 0; id < kSocketCount; ++id) {
    if (auto one = info(id)) out.push_back(*one);
  }
  return out;
}

IpError SocketService::send(int id, std::span<const std::uint8_t> data,
                            std::optional<ip::udp::endpoint> to) {
  const auto fail = [this](IpError e) { return last_error_ = e; };
  if (id < 0 || id >= kSocketCount) return fail(IpError::invalid_parameters);
  const auto socket = at(id);
  if (!socket || socket->state != SocketState::connected) return fail(IpError::socket_closed);
  if (socket->is_service() != to.has_value()) return fail(IpError::invalid_parameters);
  if (to && !reach_.allows(to->address())) {
    log_.warn("AT+QISEND: {} is outside the module's network ({})", to->address().to_string(),
              reach_.describe());
    return fail(IpError::socket_write_failed);
  }
  queue_write(socket, data, to);
  return IpError::ok;
}

void SocketService::queue_write(const std::shared_ptr<Socket>& socket,
                                std::span<const std::uint8_t> data,
                                std::optional<ip::udp::endpoint> to) {
  socket->sent += data.size();
  if (data.empty()) return;
  if (!socket->is_stream() && lose_datagram()) {
    log_.debug("socket {}: the link lost a datagram of {} bytes", socket->request.id, data.size());
    return;
  }
  socket->outgoing_bytes += data.size();
  // A transparent host writes as fast as its port goes: the peer paces it.
  if (socket->outgoing_bytes >= kSendQueueBytes) socket->link.hold_input(true);
  Chunk chunk{{data.begin(), data.end()}, to};
  if (!conditions_.delays()) return enqueue_outgoing(socket, std::move(chunk));
  if (!socket->uplink) {
    socket->uplink =
        std::make_unique<DelayLine>(io_, [this, weak = std::weak_ptr(socket)](Chunk arrived_chunk) {
          auto self = weak.lock();
          if (self && current(self)) enqueue_outgoing(self, std::move(arrived_chunk));
        });
  }
  socket->uplink->push(std::move(chunk), conditions_);
}

void SocketService::enqueue_outgoing(const std::shared_ptr<Socket>& socket, Chunk chunk) {
  socket->outgoing.push_back(std::move(chunk));
  write_next(socket);
}

void SocketService::write_next(const std::shared_ptr<Socket>& socket) {
  if (socket->writing || socket->outgoing.empty()) return;
  socket->writing = true;
  auto done = [this, weak = std::weak_ptr(socket)](const error_code& e, std::size_t n) {
    auto self = weak.lock();
    if (!self || !current(self)) return;
    self->writing = false;
    if (e) {
      log_.info("socket {}: send failed: {}", self->request.id, e.message());
      if (self->is_stream()) return peer_closed(self);
    } else {
      self->acked += n;  // on loopback, written is as good as acknowledged
    }
    self->outgoing_bytes -= self->outgoing.front().bytes.size();
    self->outgoing.pop_front();
    if (self->outgoing_bytes < kSendQueueBytes) self->link.hold_input(false);
    write_next(self);
  };
  const auto& next = socket->outgoing.front();
  if (socket->is_stream()) {
    boost::asio::async_write(socket->tcp, boost::asio::buffer(next.bytes), std::move(done));
  } else if (next.peer) {
    socket->udp.async_send_to(boost::asio::buffer(next.bytes), *next.peer, std::move(done));
  } else {
    socket->udp.async_send(boost::asio::buffer(next.bytes), std::move(done));
  }
}

std::optional<SendTotals> SocketService::send_totals(int id) const {
  const auto s = at(id);
  if (!s) return std::nullopt;
  return SendTotals{s->sent, s->acked, s->sent - s->acked};
}

std::optional<Received> SocketService::read(int id, std::size_t max) {
  const auto socket = at(id);
  if (!socket || socket->request.mode != AccessMode::buffer ||
      socket->request.type == ServiceType::tcp_listener)
    return std::nullopt;
  Received out;
  while (!socket->unread.empty() && out.bytes.size() < max) {
    auto& front = socket->unread.front();
    const std::size_t whole = front.bytes.size();
    const std::size_t take = std::min(whole, max - out.bytes.size());
    out.bytes.insert(out.bytes.end(), front.bytes.begin(),
                     front.bytes.begin() + static_cast<std::ptrdiff_t>(take));
    out.from = front.peer;
    if (take == whole || !socket->is_stream()) {
      socket->unread_bytes -= whole;  // a datagram is read whole, or its rest is lost
      socket->unread.pop_front();
    } else {
      socket->unread_bytes -= take;
      front.bytes.erase(front.bytes.begin(),
                        front.bytes.begin() + static_cast<std::ptrdiff_t>(take));
    }
    if (!socket->is_stream()) break;
  }
  socket->read += out.bytes.size();
  if (socket->unread.empty()) socket->recv_reported = false;
  start_reading(socket);
  return out;
}

std::optional<ReceiveTotals> SocketService::receive_totals(int id) const {
  const auto s = at(id);
  if (!s) return std::nullopt;
  return ReceiveTotals{s->received, s->read, s->unread_bytes};
}

void SocketService::context_down(int context, bool report_it) {
  bool any = false;
  for (auto& slot : sockets_) {
    if (!slot || slot->request.context != context) continue;
    slot->link.hang_up();
    slot->abort();
    slot.reset();
    any = true;
  }
  if (report_it && any) report("+QIURC: \"pdpdeact\"," + std::to_string(context));
}

void SocketService::drop_all() {
  for (auto& slot : sockets_) {
    if (!slot) continue;
    slot->link.hang_up();
    slot->abort();
    slot.reset();
  }
}

void SocketService::set_conditions(const LinkConditions& conditions, std::uint64_t seed) {
  conditions_ = conditions;
  loss_random_.seed(seed);
}

bool SocketService::lose_datagram() const {
  if (conditions_.udp_loss <= 0.0) return false;
  return std::bernoulli_distribution(std::min(conditions_.udp_loss, 1.0))(loss_random_);
}

at::OnlineSpec SocketService::online_spec(int id) {
  at::OnlineSpec spec;
  const std::weak_ptr<Socket> weak = at(id);
  spec.on_data = [this, weak](std::span<const std::uint8_t> bytes) {
    auto self = weak.lock();
    // Gone or closed by the peer: the link is hanging up; the bytes are lost
    // as on a real link.
    if (!self || !current(self) || self->state != SocketState::connected) return;
    queue_write(self, bytes, std::nullopt);
  };
  spec.on_event = [this, weak](at::OnlineEvent event) {
    auto self = weak.lock();
    if (self && current(self)) on_link_event(self, event);
  };
  spec.on_writable = [this, weak] {
    auto self = weak.lock();
    if (self && current(self)) start_reading(self);
  };
  return spec;
}

void SocketService::go_transparent(int id, at::OnlineLink link) {
  const auto socket = at(id);
  if (!socket) return link.hang_up();
  socket->link = std::move(link);
  on_link_event(socket, at::OnlineEvent::kResumed);
}

// After `+++` the socket is in buffer access mode (Quectel), until ATO or
// AT+QISWTMD=<id>,2 take it back; a detached link is over for good.
void SocketService::on_link_event(const std::shared_ptr<Socket>& socket, at::OnlineEvent event) {
  if (event == at::OnlineEvent::kDetached) socket->link = {};
  const bool online = event == at::OnlineEvent::kResumed && socket->link.online();
  socket->request.mode = online ? AccessMode::transparent : AccessMode::buffer;
  // Data that waited goes out in the new mode; the connection may have ended
  // while the port was not online.
  deliver_unread(socket);
  if (online && socket->state == SocketState::closing) return socket->link.hang_up();
  start_reading(socket);
}

bool SocketService::switch_mode(int id, AccessMode mode) {
  const auto socket = at(id);
  if (!socket) return false;
  socket->request.mode = mode;
  deliver_unread(socket);
  start_reading(socket);
  return true;
}

}  // namespace vmodem::sim::net
