// The module's TCP/IP stack as Quectel's TCP/IP commands see it (BG95/BG96
// TCP/IP application note): twelve socket services, connectID 0-11, each a
// real host socket (Boost.Asio) on the io thread, reaching only what
// net::Reach allows.
//
// Access modes: buffer access (the module keeps received data and says
// +QIURC: "recv",<id> once until the host has read all of it with AT+QIRD;
// a full buffer stops reading, so TCP flow control reaches the peer) and
// direct push (+QIURC: "recv",<id>,<len> followed by the data), and
// transparent access: the port the host opened it from goes online
// (at::OnlineLink) and bytes flow raw both ways until the host escapes with
// `+++` (the socket is then in buffer access mode; ATO or AT+QISWTMD=<id>,2
// go back) or the peer closes (NO CARRIER). Results and events reach the
// host as URCs through the `urc` hook.
//
// Thread: everything on the io_context it was made with.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <vmodem/at/responder.hpp>

#include "net/link_conditions.hpp"
#include "net/reach.hpp"

namespace spdlog {
class logger;
}

namespace vmodem::sim::net {

inline constexpr int kSocketCount = 12;             // connectID 0-11
inline constexpr std::size_t kMaxSendBytes = 1460;  // AT+QISEND
inline constexpr std::size_t kMaxReadBytes = 1500;  // AT+QIRD, and each direct-push URC
// Received data a buffer-access socket holds before it stops reading.
inline constexpr std::size_t kReceiveBufferBytes = 64 * 1024;
// Host data a transparent socket holds unsent before the port stops taking
// the host's bytes.
inline constexpr std::size_t kSendQueueBytes = 64 * 1024;

enum class ServiceType { tcp, udp, tcp_listener, udp_service, tcp_incoming };
std::string_view to_string(ServiceType type);  // "TCP", "UDP", ... as AT+QISTATE prints
std::optional<ServiceType> service_type_from(std::string_view name);

enum class AccessMode { buffer = 0, direct_push = 1, transparent = 2 };
enum class SocketState { initial = 0, opening = 1, connected = 2, listening = 3, closing = 4 };

// Quectel's TCP/IP error codes (+QIOPEN: <id>,<err>, AT+QIGETERROR).
enum class IpError {
  ok = 0,
  unknown = 550,
  invalid_parameters = 552,
  socket_create_failed = 554,
  not_supported = 555,
  socket_bind_failed = 556,
  socket_write_failed = 558,
  open_pdp_failed = 561,
  socket_identity_used = 563,
  dns_parse_failed = 565,
  socket_connect_failed = 566,
  socket_closed = 567,
  operation_not_allowed = 572,
};
std::string_view describe(IpError error);  // AT+QIGETERROR's <errcode_description>

struct OpenRequest {
  int context = 1;
  int id = 0;
  ServiceType type = ServiceType::tcp;
  std::string host;  // IP literal or a name net::Reach knows
  std::uint16_t remote_port = 0;
  std::uint16_t local_port = 0;  // 0: any
  AccessMode mode = AccessMode::buffer;
  // Transparent access: told the outcome (then the caller takes its port
  // online, see go_transparent) instead of a +QIOPEN URC.
  std::function<void(IpError)> on_opened{};
};

// One row of AT+QISTATE.
struct SocketInfo {
  int id = 0;
  ServiceType type = ServiceType::tcp;
  std::string address;  // the remote address as the host gave it
  std::uint16_t remote_port = 0, local_port = 0;
  SocketState state = SocketState::initial;
  int context = 1;
  AccessMode mode = AccessMode::buffer;
  int server_id = 0;  // TCP INCOMING: the listener's connectID
};

struct SendTotals {
  std::uint64_t sent = 0, acked = 0, unacked = 0;  // AT+QISEND=<id>,0
};
struct ReceiveTotals {
  std::uint64_t total = 0, read = 0, unread = 0;  // AT+QIRD=<id>,0
};

// What AT+QIRD takes: the bytes, and for a UDP SERVICE their sender.
struct Received {
  std::vector<std::uint8_t> bytes;
  std::optional<boost::asio::ip::udp::endpoint> from;
};

class SocketService {
 public:
  SocketService(boost::asio::io_context& io, const Reach& reach, spdlog::logger& log,
                std::function<void(const std::string& urc)> urc);
  ~SocketService();
  SocketService(const SocketService&) = delete;
  SocketService& operator=(const SocketService&) = delete;

  // Starts opening; the outcome always comes as +QIOPEN: <id>,<err> (the
  // caller answers OK first). TCP and UDP clients, a TCP LISTENER (its
  // connections arrive as TCP INCOMING on the lowest free connectID, with
  // +QIURC: "incoming") and a UDP SERVICE, each bound on loopback at
  // `local_port`; buffer or direct push mode, and for TCP and UDP clients
  // transparent access (request.on_opened; servers report not_supported).
  void open(const OpenRequest& request);
  // The callbacks of a transparent socket's online link (for
  // Responder::go_online); inert when `id` has no socket.
  at::OnlineSpec online_spec(int id);
  // Puts socket `id` in transparent access over `link` (just gone online):
  // data already received and unread goes to the host first. A stale link
  // leaves the socket in buffer access mode.
  void go_transparent(int id, at::OnlineLink link);
  // AT+QISWTMD=<id>,0|1: buffer access or direct push (data waiting unread
  // is pushed at once). False when `id` has no socket.
  bool switch_mode(int id, AccessMode mode);
  // Reports +QIOPEN: <id>,<error> for an open the caller refused itself
  // (the PDP context is not active).
  void refuse(int id, IpError error);
  // Records `error` for AT+QIGETERROR without a URC (a transparent open the
  // caller refused itself).
  void refuse_quietly(IpError error) { last_error_ = error; }
  // Closes and frees `id` (a TCP peer sees an orderly close). False when no
  // socket was open there.
  bool close(int id);
  // Every open socket; one.
  std::vector<SocketInfo> list() const;
  std::optional<SocketInfo> info(int id) const;

  // Queues `data` on a connected socket (a UDP SERVICE: to `to`, which it
  // needs): ok, or why not (socket_closed when there is none or the peer has
  // closed it).
  IpError send(int id, std::span<const std::uint8_t> data,
               std::optional<boost::asio::ip::udp::endpoint> to = std::nullopt);
  std::optional<SendTotals> send_totals(int id) const;

  // Buffer access mode: up to `max` received bytes (one datagram at most for
  // UDP); nullopt when `id` is not an open buffer-access socket.
  std::optional<Received> read(int id, std::size_t max);
  std::optional<ReceiveTotals> receive_totals(int id) const;

  // The PDP context went down: its sockets close. `report`: with
  // +QIURC: "pdpdeact",<cid> (the network did it), else silently (the host
  // asked with AT+QIDEACT).
  void context_down(int context, bool report);
  // Power loss or reset: every socket goes at once, each TCP peer sees a
  // reset; nothing is reported.
  void drop_all();

  // The radio link from now on (sockets open already included): latency and
  // bandwidth delay each chunk in each direction; UDP datagrams (and pings)
  // are lost at random with `udp_loss`, drawn from `seed`.
  void set_conditions(const LinkConditions& conditions, std::uint64_t seed);
  const LinkConditions& conditions() const { return conditions_; }
  // True when the link loses the next datagram (one draw from the seeded
  // generator).
  bool lose_datagram() const;

  IpError last_error() const { return last_error_; }
  // Where the sockets reach and how names resolve (AT+QIDNSGIP, AT+QPING).
  const Reach& reach() const { return reach_; }

 private:
  struct Socket;
  void connect_tcp(const std::shared_ptr<Socket>& socket, const boost::asio::ip::address& address);
  void connect_udp(const std::shared_ptr<Socket>& socket, const boost::asio::ip::address& address);
  void listen_tcp(const std::shared_ptr<Socket>& socket, const boost::asio::ip::address& address);
  void bind_udp_service(const std::shared_ptr<Socket>& socket,
                        const boost::asio::ip::address& address);
  void accept_next(const std::shared_ptr<Socket>& listener);
  void report_after_ok(const std::shared_ptr<Socket>& socket, IpError error);
  void opened(const std::shared_ptr<Socket>& socket, IpError error);
  void start_reading(const std::shared_ptr<Socket>& socket);
  // From the network, through the link's conditions, to received().
  void arrived(const std::shared_ptr<Socket>& socket, std::span<const std::uint8_t> bytes,
               const std::optional<boost::asio::ip::udp::endpoint>& from);
  void received(const std::shared_ptr<Socket>& socket, std::span<const std::uint8_t> bytes,
                const std::optional<boost::asio::ip::udp::endpoint>& from);
  void enqueue_outgoing(const std::shared_ptr<Socket>& socket, Chunk chunk);
  void peer_closed(const std::shared_ptr<Socket>& socket);
  void write_next(const std::shared_ptr<Socket>& socket);
  void queue_write(const std::shared_ptr<Socket>& socket, std::span<const std::uint8_t> data,
                   std::optional<boost::asio::ip::udp::endpoint> to);
  void on_link_event(const std::shared_ptr<Socket>& socket, at::OnlineEvent event);
  // Hands unread data to the host in the socket's current access mode.
  void deliver_unread(const std::shared_ptr<Socket>& socket);
  // The socket at connectID `id`; nullptr when out of range or free.
  std::shared_ptr<Socket> at(int id) const;
  bool current(const std::shared_ptr<Socket>& socket) const;
  void report(const std::string& urc) const;

  boost::asio::io_context& io_;
  const Reach& reach_;
  spdlog::logger& log_;
  std::function<void(const std::string&)> urc_;
  std::array<std::shared_ptr<Socket>, kSocketCount> sockets_;
  IpError last_error_ = IpError::ok;
  LinkConditions conditions_;
  mutable std::mt19937_64 loss_random_;
};

}  // namespace vmodem::sim::net
