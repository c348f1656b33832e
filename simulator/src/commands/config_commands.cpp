// Settings saved to NV: PDP contexts (+CGDCONT, +QICSGP), +QCFG, +QURCCFG;
// context activation (+QIACT, +QIDEACT, +CGACT) which is not saved.
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/pdp_contexts.hpp"
#include "module/nv_settings.hpp"
#include "net/socket_service.hpp"

namespace vmodem::sim {

namespace {

// What the configuration commands touch.
struct ConfigParts {
  const NetworkConfig& network;  // the factory APN of context 1
  NvSettings& nv;
  RuntimeState& radio;
  net::SocketService& sockets;  // a context going down takes its sockets
};

// The PDP contexts in NV by cid. Context 1 is defined from the factory with
// the profile's APN.
std::map<int, PdpContext> contexts(const ConfigParts& m) {
  auto all = m.nv.values().contexts;
  if (!all.contains(1)) all[1].apn = m.network.apn;
  return all;
}

void save_contexts(const ConfigParts& m, std::map<int, PdpContext> all) {
  m.nv.update([&](NvValues& v) { v.contexts = std::move(all); });
}

const char* pdp_type_name(int type) {
  return type == 2 ? "IPV6" : type == 3 ? "IPV4V6" : "IP";
}

std::optional<int> pdp_type_from(const std::string& name) {
  if (name == "IP") return 1;
  if (name == "IPV6") return 2;
  if (name == "IPV4V6") return 3;
  return std::nullopt;
}

void register_cgdcont(at::Registry& registry, const ConfigParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [m](at::Call& call) {
    for (const auto& [cid, ctx] : contexts(m)) {
      call.responder.info("+CGDCONT: " + std::to_string(cid) + "," +
                          quoted(pdp_type_name(ctx.type)) + "," + quoted(ctx.apn) +
                          ",\"0.0.0.0\",0,0,0");
    }
    call.responder.ok();
  };
  spec.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    auto all = contexts(m);
    if (call.command.arg(1).is_omitted()) {  // AT+CGDCONT=<cid>: undefine
      all.erase(static_cast<int>(*cid));
    } else {
      const auto type = str_arg(call.command, 1);
      const auto parsed = type ? pdp_type_from(*type) : std::nullopt;
      auto apn = str_arg(call.command, 2).value_or("");
      if (!parsed || apn.size() > kMaxApnBytes) return void(call.responder.error());
      // User, password and authentication (AT+QICSGP's) stay as they were.
      auto& ctx = all[static_cast<int>(*cid)];
      ctx.type = *parsed;
      ctx.apn = std::move(apn);
    }
    save_contexts(m, std::move(all));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+CGDCONT: (1-16),\"IP\",,,(0-2),(0-4),(0,1)");
    call.responder.info("+CGDCONT: (1-16),\"IPV6\",,,(0-2),(0-4),(0,1)");
    call.responder.info("+CGDCONT: (1-16),\"IPV4V6\",,,(0-2),(0-4),(0,1)");
    call.responder.ok();
  };
  (void)registry.add("+CGDCONT", std::move(spec));
}

void register_qicsgp(at::Registry& registry, const ConfigParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    auto all = contexts(m);
    if (call.command.args.size() == 1) {  // query: AT+QICSGP=<cid>
      const auto it = all.find(static_cast<int>(*cid));
      if (it == all.end()) {
        call.responder.info("+QICSGP: 0,\"\",\"\",\"\",0");
      } else {
        const PdpContext& c = it->second;
        call.responder.info("+QICSGP: " + std::to_string(c.type) + "," + quoted(c.apn) + "," +
                            quoted(c.user) + "," + quoted(c.password) + "," +
                            std::to_string(c.auth));
      }
      return void(call.responder.ok());
    }
    const auto type = int_arg(call.command, 1, 1, 3);
    const auto apn = str_arg(call.command, 2);
    const auto user = str_arg(call.command, 3).value_or("");
    const auto password = str_arg(call.command, 4).value_or("");
    const auto auth = call.command.arg(5).is_omitted() ? std::optional<std::int64_t>(0)
                                                       : int_arg(call.command, 5, 0, 3);
    // Longer than the documented maxima: ERROR, as the module answers.
    if (!type || !apn || !auth || apn->size() > kMaxApnBytes || user.size() > kMaxPdpUserBytes ||
        password.size() > kMaxPdpPasswordBytes) {
      return void(call.responder.error());
    }
    all[static_cast<int>(*cid)] = PdpContext{.type = static_cast<int>(*type),
                                             .apn = *apn,
                                             .user = user,
                                             .password = password,
                                             .auth = static_cast<int>(*auth)};
    save_contexts(m, std::move(all));
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QICSGP: (1-16),(1-3),<APN>,<username>,<password>,(0-3)");
    call.responder.ok();
  };
  (void)registry.add("+QICSGP", std::move(spec));
}

// Context activation is what FOTA downloads need; it is not saved.
void register_activation(at::Registry& registry, const ConfigParts& m) {
  at::CommandSpec qiact;
  qiact.gate_tag = kNeedsRdy;
  qiact.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    if (!m.radio.registered() || !contexts(m).contains(static_cast<int>(*cid))) {
      return void(
          call.responder.cme_error(550));  // unknown error, as Quectel reports a failed activation
    }
    m.radio.active_contexts.insert(static_cast<int>(*cid));
    call.responder.ok();
  };
  qiact.read = [m](at::Call& call) {
    for (const int cid : m.radio.active_contexts) {
      call.responder.info("+QIACT: " + std::to_string(cid) + ",1,1,\"10.64." + std::to_string(cid) +
                          ".2\"");
    }
    call.responder.ok();
  };
  qiact.test = [](at::Call& call) {
    call.responder.info("+QIACT: (1-16)");
    call.responder.ok();
  };
  (void)registry.add("+QIACT", std::move(qiact));

  at::CommandSpec qideact;
  qideact.gate_tag = kNeedsRdy;
  qideact.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    m.radio.active_contexts.erase(static_cast<int>(*cid));
    m.sockets.context_down(static_cast<int>(*cid), false);  // the host asked: no URC
    call.responder.ok();
  };
  (void)registry.add("+QIDEACT", std::move(qideact));

  at::CommandSpec cgact;
  cgact.gate_tag = kNeedsRdy;
  cgact.write = [m](at::Call& call) {
    const auto state = int_arg(call.command, 0, 0, 1);
    const auto cid = int_arg(call.command, 1, 1, kMaxCid);
    if (!state || !cid) return void(call.responder.error());
    if (*state == 1) {
      if (!m.radio.registered()) return void(call.responder.cme_error(30));  // no network service
      m.radio.active_contexts.insert(static_cast<int>(*cid));
    } else {
      m.radio.active_contexts.erase(static_cast<int>(*cid));
      m.sockets.context_down(static_cast<int>(*cid), false);
    }
    call.responder.ok();
  };
  cgact.read = [m](at::Call& call) {
    for (const auto& [cid, ctx] : contexts(m)) {
      const bool on = m.radio.active_contexts.contains(cid);
      call.responder.info("+CGACT: " + std::to_string(cid) + "," + (on ? "1" : "0"));
    }
    call.responder.ok();
  };
  (void)registry.add("+CGACT", std::move(cgact));
}

// AT+QCFG settings: kQcfgItems (nv_settings.hpp) names each item, its
// default and its range. Unknown names: ERROR.
void register_qcfg(at::Registry& registry, const ConfigParts& m) {
  at::CommandSpec spec;
  spec.write = [m](at::Call& call) {
    const auto name = str_arg(call.command, 0);
    const QcfgItem* item = name ? find_qcfg(*name) : nullptr;
    if (!item) return void(call.responder.error());
    if (call.command.args.size() == 1) {
      call.responder.info("+QCFG: " + quoted(std::string(item->name)) + "," +
                          std::to_string(m.nv.values().qcfg_value(item->id)));
      return void(call.responder.ok());
    }
    const auto value = int_arg(call.command, 1, item->min, item->max);
    if (!value) return void(call.responder.error());
    m.nv.update([&](NvValues& v) { v.set_qcfg(item->id, static_cast<int>(*value)); });
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    for (const auto& item : kQcfgItems) {
      call.responder.info("+QCFG: " + quoted(std::string(item.name)) + ",(" +
                          std::to_string(item.min) + "-" + std::to_string(item.max) + ")");
    }
    call.responder.ok();
  };
  (void)registry.add("+QCFG", std::move(spec));
}

void register_qurccfg(at::Registry& registry, const ConfigParts& m) {
  at::CommandSpec spec;
  spec.write = [m](at::Call& call) {
    const auto name = str_arg(call.command, 0);
    if (!name || *name != "urcport") return void(call.responder.error());
    if (call.command.args.size() == 1) {
      call.responder.info("+QURCCFG: \"urcport\"," + quoted(m.nv.values().urcport));
      return void(call.responder.ok());
    }
    const auto port = str_arg(call.command, 1);
    if (!port || (*port != "usbat" && *port != "usbmodem" && *port != "uart1"))
      return void(call.responder.error());
    m.nv.update([&](NvValues& v) { v.urcport = *port; });
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QURCCFG: \"urcport\",(\"usbat\",\"usbmodem\",\"uart1\")");
    call.responder.ok();
  };
  (void)registry.add("+QURCCFG", std::move(spec));
}

}  // namespace

bool pdp_context_defined(const NetworkConfig&, NvSettings& nv, int cid) {
  return cid == 1 || nv.values().contexts.contains(cid);  // context 1 is the factory's
}

void register_config_commands(at::Registry& registry, const NetworkConfig& network, NvSettings& nv,
                              RuntimeState& radio, net::SocketService& sockets) {
  // Each handler keeps a copy (four references).
  const ConfigParts parts{network, nv, radio, sockets};
  register_cgdcont(registry, parts);
  register_qicsgp(registry, parts);
  register_activation(registry, parts);
  register_qcfg(registry, parts);
  register_qurccfg(registry, parts);
}

}  // namespace vmodem::sim
