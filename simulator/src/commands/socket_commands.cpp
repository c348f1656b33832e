// Quectel's TCP/IP commands (BG95/BG96 TCP/IP application note) over the
// module's socket service (net/socket_service.hpp): AT+QIOPEN, +QICLOSE,
// +QISTATE, +QISEND, +QISENDEX, +QIRD, +QIGETERROR, +QISWTMD, and AT+CGPADDR.
// Transparent access (<access_mode> 2) answers CONNECT instead of OK and
// +QIOPEN; `+++` (at::OnlineLink) and ATO come from the AT engine.
//
//   AT+QIOPEN=1,0,"TCP","127.0.0.1",7000,0,0
//   OK
//   +QIOPEN: 0,0
//   AT+QISEND=0,5          (or AT+QISEND=0, data, Ctrl-Z)
//   > hello
//   SEND OK
//   +QIURC: "recv",0
//   AT+QIRD=0,1500
//   +QIRD: 5
//   hello
//   OK
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/pdp_contexts.hpp"
#include "hex.hpp"
#include "net/socket_service.hpp"

namespace vmodem::sim {

namespace {

using net::AccessMode;
using net::IpError;
using net::ServiceType;

// A host typing by hand gets time; the module holds the port meanwhile.
constexpr std::chrono::seconds kSendInactivity{120};

// What the TCP/IP commands touch.
struct SocketParts {
  net::SocketService& sockets;
  const NetworkConfig& network;
  NvSettings& nv;
  RuntimeState& radio;
};

std::string at_port_name(const NvSettings& nv) {
  return nv.values().urcport;  // "usbat", "usbmodem" or "uart1": where the URCs go
}

std::string state_line(const net::SocketInfo& s, const NvSettings& nv) {
  return "+QISTATE: " + std::to_string(s.id) + "," + quoted(std::string(to_string(s.type))) + "," +
         quoted(s.address) + "," + std::to_string(s.remote_port) + "," +
         std::to_string(s.local_port) + "," + std::to_string(static_cast<int>(s.state)) + "," +
         std::to_string(s.context) + "," + std::to_string(s.server_id) + "," +
         std::to_string(static_cast<int>(s.mode)) + "," + quoted(at_port_name(nv));
}

// Transparent access: no OK first; CONNECT once connected (the port is then
// online for the socket), or ERROR with the reason for AT+QIGETERROR.
void open_transparent(at::Call& call, const SocketParts& m, net::OpenRequest request) {
  if (!m.radio.active_contexts.contains(request.context)) {
    m.sockets.refuse_quietly(IpError::open_pdp_failed);
    return void(call.responder.error());
  }
  request.on_opened = [sockets = &m.sockets, answer = call.responder,
                       id = request.id](IpError error) mutable {
    if (error != IpError::ok) return void(answer.error());
    // A port reset while connecting leaves nobody to go online for.
    if (!answer.active()) return void(sockets->close(id));
    sockets->go_transparent(id, answer.go_online(sockets->online_spec(id)));
  };
  m.sockets.open(request);
}

void register_qiopen(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    const auto id = int_arg(call.command, 1, 0, net::kSocketCount - 1);
    const auto type_name = str_arg(call.command, 2);
    const auto type = type_name ? net::service_type_from(*type_name) : std::nullopt;
    const auto host = str_arg(call.command, 3);
    const auto remote = int_arg(call.command, 4, 0, 65535);
    const auto local = call.command.arg(5).is_omitted() ? std::optional<std::int64_t>(0)
                                                        : int_arg(call.command, 5, 0, 65535);
    const auto mode = call.command.arg(6).is_omitted() ? std::optional<std::int64_t>(0)
                                                       : int_arg(call.command, 6, 0, 2);
    if (!cid || !id || !type || !host || !remote || !local || !mode || call.command.args.size() > 7)
      return void(call.responder.error());
    net::OpenRequest request{.context = static_cast<int>(*cid),
                             .id = static_cast<int>(*id),
                             .type = *type,
                             .host = *host,
                             .remote_port = static_cast<std::uint16_t>(*remote),
                             .local_port = static_cast<std::uint16_t>(*local),
                             .mode = static_cast<AccessMode>(*mode)};
    if (request.mode == AccessMode::transparent) return open_transparent(call, m, request);
    call.responder.ok();
    // The context must be up (AT+QIACT): there is nothing to open a socket over.
    if (!m.radio.active_contexts.contains(request.context))
      return m.sockets.refuse(request.id, IpError::open_pdp_failed);
    m.sockets.open(request);
  };
  spec.test = [](at::Call& call) {
    call.responder.info(
        "+QIOPEN: (1-16),(0-11),\"TCP/UDP/TCP LISTENER/UDP SERVICE\",\"<IP_address>/"
        "<domain_name>\",(0-65535),(0-65535),(0-2)");
    call.responder.ok();
  };
  (void)registry.add("+QIOPEN", std::move(spec));
}

void register_qiclose(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto id = int_arg(call.command, 0, 0, net::kSocketCount - 1);
    const auto timeout = call.command.arg(1).is_omitted() ? std::optional<std::int64_t>(10)
                                                          : int_arg(call.command, 1, 0, 65535);
    if (!id || !timeout) return void(call.responder.error());
    (void)m.sockets.close(static_cast<int>(*id));  // closing a closed socket is OK too
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QICLOSE: (0-11),(0-65535)");
    call.responder.ok();
  };
  (void)registry.add("+QICLOSE", std::move(spec));
}

void register_qistate(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto list_all = [m](at::Call& call) {
    for (const auto& s : m.sockets.list())
      call.responder.info(state_line(s, m.nv));
    call.responder.ok();
  };
  spec.read = list_all;
  spec.execute = list_all;
  spec.write = [m](at::Call& call) {
    const auto query = int_arg(call.command, 0, 0, 1);
    if (!query) return void(call.responder.error());
    if (*query == 0) {
      const auto cid = int_arg(call.command, 1, 1, kMaxCid);
      if (!cid) return void(call.responder.error());
      for (const auto& s : m.sockets.list()) {
        if (s.context == *cid) call.responder.info(state_line(s, m.nv));
      }
    } else {
      const auto id = int_arg(call.command, 1, 0, net::kSocketCount - 1);
      if (!id) return void(call.responder.error());
      if (const auto s = m.sockets.info(static_cast<int>(*id)))
        call.responder.info(state_line(*s, m.nv));
    }
    call.responder.ok();
  };
  (void)registry.add("+QISTATE", std::move(spec));
}

// The data after the prompt goes out once it is complete: SEND OK, or SEND
// FAIL when the socket cannot take it (closed meanwhile). `to`: a UDP
// SERVICE's destination.
void send_after_prompt(const SocketParts& m, at::Call& call, int id,
                       std::optional<std::size_t> fixed,
                       const std::optional<boost::asio::ip::udp::endpoint>& to = std::nullopt) {
  auto data = std::make_shared<std::vector<std::uint8_t>>();
  at::UploadSpec upload;
  upload.prompt = "> ";
  upload.inactivity_timeout = kSendInactivity;
  if (fixed) {
    upload.expected_bytes = *fixed;
    upload.trailing_grace = std::chrono::milliseconds(0);
  } else {
    upload.expected_bytes = net::kMaxSendBytes;
    upload.ends_at_ctrl_z = true;
  }
  upload.on_data = [data](std::span<const std::uint8_t> bytes) {
    data->insert(data->end(), bytes.begin(), bytes.end());
  };
  upload.on_end = [m, id, data, to, responder = call.responder](at::UploadEnd end,
                                                                std::size_t) mutable {
    if (end == at::UploadEnd::kAborted) return;
    if (end == at::UploadEnd::kCancelled) return void(responder.ok());  // ESC: nothing sent
    if (end == at::UploadEnd::kTimeout) return void(responder.error());
    const bool sent = m.sockets.send(id, *data, to) == IpError::ok;
    responder.final_text(sent ? "SEND OK" : "SEND FAIL");
  };
  if (!call.responder.start_upload(std::move(upload))) call.responder.error();
}

void register_qisend(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto id = int_arg(call.command, 0, 0, net::kSocketCount - 1);
    if (!id || call.command.args.size() > 4 || call.command.args.size() == 3)
      return void(call.responder.error());
    const auto info = m.sockets.info(static_cast<int>(*id));
    const bool service = info && info->type == ServiceType::udp_service;
    if (call.command.args.size() == 4) {  // UDP SERVICE: =<id>,<len>,"<ip>",<port>
      const auto length = int_arg(call.command, 1, 1, net::kMaxSendBytes);
      const auto ip = str_arg(call.command, 2);
      const auto port = int_arg(call.command, 3, 1, 65535);
      boost::system::error_code ec;
      const auto address = ip ? boost::asio::ip::make_address(*ip, ec) : boost::asio::ip::address();
      if (!length || !ip || ec || !port || !service || info->state != net::SocketState::connected)
        return void(call.responder.error());
      return send_after_prompt(
          m, call, static_cast<int>(*id), static_cast<std::size_t>(*length),
          boost::asio::ip::udp::endpoint(address, static_cast<std::uint16_t>(*port)));
    }
    // A UDP SERVICE sends only with an address; =<id>,0 works on every socket.
    const bool totals_query =
        call.command.args.size() == 2 && int_arg(call.command, 1, 0, 0).has_value();
    if (service && !totals_query) return void(call.responder.error());
    if (call.command.args.size() == 2) {
      const auto length = int_arg(call.command, 1, 0, net::kMaxSendBytes);
      if (!length) return void(call.responder.error());
      if (*length == 0) {  // AT+QISEND=<id>,0: what was sent and acknowledged
        const auto totals = m.sockets.send_totals(static_cast<int>(*id));
        if (!totals) return void(call.responder.error());
        call.responder.info("+QISEND: " + std::to_string(totals->sent) + "," +
                            std::to_string(totals->acked) + "," + std::to_string(totals->unacked));
        return void(call.responder.ok());
      }
      if (!info || info->state != net::SocketState::connected) return void(call.responder.error());
      return send_after_prompt(m, call, static_cast<int>(*id), static_cast<std::size_t>(*length));
    }
    if (!info || info->state != net::SocketState::connected) return void(call.responder.error());
    send_after_prompt(m, call, static_cast<int>(*id), std::nullopt);
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QISEND: (0-11),(0-1460)");
    call.responder.ok();
  };
  (void)registry.add("+QISEND", std::move(spec));
}

void register_qisendex(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto id = int_arg(call.command, 0, 0, net::kSocketCount - 1);
    const auto hex = str_arg(call.command, 1);
    const auto text = hex ? from_hex(*hex) : std::nullopt;
    const auto bytes =
        text ? std::optional(std::vector<std::uint8_t>(text->begin(), text->end())) : std::nullopt;
    if (!id || !bytes || bytes->empty() || bytes->size() > 512 || call.command.args.size() != 2)
      return void(call.responder.error());
    const auto info = m.sockets.info(static_cast<int>(*id));
    if (!info || info->state != net::SocketState::connected) return void(call.responder.error());
    const bool sent = m.sockets.send(static_cast<int>(*id), *bytes) == IpError::ok;
    call.responder.final_text(sent ? "SEND OK" : "SEND FAIL");
  };
  (void)registry.add("+QISENDEX", std::move(spec));
}

void register_qird(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto id = int_arg(call.command, 0, 0, net::kSocketCount - 1);
    const auto length = call.command.arg(1).is_omitted()
                            ? std::optional<std::int64_t>(net::kMaxReadBytes)
                            : int_arg(call.command, 1, 0, net::kMaxReadBytes);
    if (!id || !length || call.command.args.size() > 2) return void(call.responder.error());
    const int socket = static_cast<int>(*id);
    if (*length == 0) {  // AT+QIRD=<id>,0: received, read, unread
      const auto totals = m.sockets.receive_totals(socket);
      if (!totals) return void(call.responder.error());
      call.responder.info("+QIRD: " + std::to_string(totals->total) + "," +
                          std::to_string(totals->read) + "," + std::to_string(totals->unread));
      return void(call.responder.ok());
    }
    const auto data = m.sockets.read(socket, static_cast<std::size_t>(*length));
    if (!data) return void(call.responder.error());
    // "+QIRD: <n>[,"<ip>",<port>]" CR LF, then the bytes as they came, then OK.
    std::string line = "+QIRD: " + std::to_string(data->bytes.size());
    if (data->from) {
      line +=
          ",\"" + data->from->address().to_string() + "\"," + std::to_string(data->from->port());
    }
    if (!data->bytes.empty()) line += "\r\n" + std::string(data->bytes.begin(), data->bytes.end());
    call.responder.info(line);
    call.responder.ok();
  };
  (void)registry.add("+QIRD", std::move(spec));
}

void register_qigeterror(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.execute = [m](at::Call& call) {
    const IpError e = m.sockets.last_error();
    call.responder.info("+QIGETERROR: " + std::to_string(static_cast<int>(e)) + "," +
                        std::string(net::describe(e)));
    call.responder.ok();
  };
  (void)registry.add("+QIGETERROR", std::move(spec));
}

// AT+QISWTMD=<id>,<mode>: buffer access, direct push (OK) or transparent
// access (CONNECT: the port goes online for the socket).
void register_qiswtmd(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto id = int_arg(call.command, 0, 0, net::kSocketCount - 1);
    const auto mode = int_arg(call.command, 1, 0, 2);
    if (!id || !mode || call.command.args.size() > 2) return void(call.responder.error());
    const int socket = static_cast<int>(*id);
    const auto info = m.sockets.info(socket);
    if (!info) return void(call.responder.error());
    if (static_cast<AccessMode>(*mode) != AccessMode::transparent) {
      (void)m.sockets.switch_mode(socket, static_cast<AccessMode>(*mode));
      return void(call.responder.ok());
    }
    const bool client = info->type == ServiceType::tcp || info->type == ServiceType::udp ||
                        info->type == ServiceType::tcp_incoming;
    if (!client) return void(call.responder.error());
    m.sockets.go_transparent(socket, call.responder.go_online(m.sockets.online_spec(socket)));
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QISWTMD: (0-11),(0-2)");
    call.responder.ok();
  };
  (void)registry.add("+QISWTMD", std::move(spec));
}

// The address each active context has: the one AT+QIACT? prints.
void register_cgpaddr(at::Registry& registry, const SocketParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto line = [m](int cid) {
    const bool up = m.radio.active_contexts.contains(cid);
    return "+CGPADDR: " + std::to_string(cid) + "," +
           quoted(up ? "10.64." + std::to_string(cid) + ".2" : "0.0.0.0");
  };
  spec.execute = [m, line](at::Call& call) {
    for (int cid = 1; cid <= kMaxCid; ++cid) {
      if (pdp_context_defined(m.network, m.nv, cid)) call.responder.info(line(cid));
    }
    call.responder.ok();
  };
  spec.write = [m, line](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid || !pdp_context_defined(m.network, m.nv, static_cast<int>(*cid)))
      return void(call.responder.error());
    call.responder.info(line(static_cast<int>(*cid)));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+CGPADDR: (1-16)");
    call.responder.ok();
  };
  (void)registry.add("+CGPADDR", std::move(spec));
}

}  // namespace

void register_socket_commands(at::Registry& registry, net::SocketService& sockets,
                              const NetworkConfig& network, NvSettings& nv, RuntimeState& radio) {
  const SocketParts parts{sockets, network, nv, radio};
  register_qiopen(registry, parts);
  register_qiclose(registry, parts);
  register_qistate(registry, parts);
  register_qisend(registry, parts);
  register_qisendex(registry, parts);
  register_qird(registry, parts);
  register_qigeterror(registry, parts);
  register_qiswtmd(registry, parts);
  register_cgpaddr(registry, parts);
}

}  // namespace vmodem::sim
