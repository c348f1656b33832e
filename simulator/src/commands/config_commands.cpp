// Settings saved to NV: PDP contexts (+CGDCONT, +QICSGP), +QCFG, +QURCCFG;
// context activation (+QIACT, +QIDEACT, +CGACT) which is not saved.
#include <vmodem/simulator/gate.hpp>
#include <vmodem/simulator/module.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/pdp_contexts.hpp"
#include "module/nv_store.hpp"

namespace vmodem::sim {

namespace {

constexpr int kMaxCid = 16;

// The PDP contexts in NV: {"1": {"type":1,"apn":"",...}, ...}. Context 1 is
// defined from the factory with the profile's APN.
nlohmann::json contexts(Module& m) {
  auto all = m.nv().get("contexts", nlohmann::json::object());
  if (!all.contains("1")) {
    all["1"] = {
        {"type", 1}, {"apn", m.profile().network.apn}, {"user", ""}, {"password", ""}, {"auth", 0}};
  }
  return all;
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

void register_cgdcont(at::Registry& registry, Module* m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [m](at::Call& call) {
    // Keep the document alive for the loop: items() only refers to it.
    const auto all = contexts(*m);
    for (const auto& [cid, ctx] : all.items()) {
      call.responder.info("+CGDCONT: " + cid + "," + quoted(pdp_type_name(ctx["type"].get<int>())) +
                          "," + quoted(ctx["apn"].get<std::string>()) + ",\"0.0.0.0\",0,0,0");
    }
    call.responder.ok();
  };
  spec.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    auto all = contexts(*m);
    const std::string key = std::to_string(*cid);
    if (call.command.arg(1).is_omitted()) {  // AT+CGDCONT=<cid>: undefine
      all.erase(key);
    } else {
      const auto type = str_arg(call.command, 1);
      const auto parsed = type ? pdp_type_from(*type) : std::nullopt;
      if (!parsed) return void(call.responder.error());
      auto& ctx = all[key];
      ctx["type"] = *parsed;
      ctx["apn"] = str_arg(call.command, 2).value_or("");
      if (!ctx.contains("user")) ctx.update({{"user", ""}, {"password", ""}, {"auth", 0}});
    }
    m->nv().set("contexts", all);
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

void register_qicsgp(at::Registry& registry, Module* m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    auto all = contexts(*m);
    const std::string key = std::to_string(*cid);
    if (call.command.args.size() == 1) {  // query: AT+QICSGP=<cid>
      const auto it = all.find(key);
      if (it == all.end()) {
        call.responder.info("+QICSGP: 0,\"\",\"\",\"\",0");
      } else {
        const auto& c = *it;
        call.responder.info("+QICSGP: " + std::to_string(c["type"].get<int>()) + "," +
                            quoted(c["apn"]) + "," + quoted(c["user"]) + "," +
                            quoted(c["password"]) + "," + std::to_string(c["auth"].get<int>()));
      }
      return void(call.responder.ok());
    }
    const auto type = int_arg(call.command, 1, 1, 3);
    const auto apn = str_arg(call.command, 2);
    const auto auth = call.command.arg(5).is_omitted() ? std::optional<std::int64_t>(0)
                                                       : int_arg(call.command, 5, 0, 3);
    if (!type || !apn || !auth || apn->size() > 100) return void(call.responder.error());
    all[key] = {{"type", *type},
                {"apn", *apn},
                {"user", str_arg(call.command, 3).value_or("")},
                {"password", str_arg(call.command, 4).value_or("")},
                {"auth", *auth}};
    m->nv().set("contexts", all);
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QICSGP: (1-16),(1-3),<APN>,<username>,<password>,(0-3)");
    call.responder.ok();
  };
  (void)registry.add("+QICSGP", std::move(spec));
}

// Context activation is what FOTA downloads need; it is not saved.
void register_activation(at::Registry& registry, Module* m) {
  at::CommandSpec qiact;
  qiact.gate_tag = kNeedsRdy;
  qiact.write = [m](at::Call& call) {
    const auto cid = int_arg(call.command, 0, 1, kMaxCid);
    if (!cid) return void(call.responder.error());
    if (!m->runtime().registered() || !contexts(*m).contains(std::to_string(*cid))) {
      return void(
          call.responder.cme_error(550));  // unknown error, as Quectel reports a failed activation
    }
    m->runtime().active_contexts.insert(static_cast<int>(*cid));
    call.responder.ok();
  };
  qiact.read = [m](at::Call& call) {
    for (const int cid : m->runtime().active_contexts) {
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
    m->runtime().active_contexts.erase(static_cast<int>(*cid));
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
      if (!m->runtime().registered())
        return void(call.responder.cme_error(30));  // no network service
      m->runtime().active_contexts.insert(static_cast<int>(*cid));
    } else {
      m->runtime().active_contexts.erase(static_cast<int>(*cid));
    }
    call.responder.ok();
  };
  cgact.read = [m](at::Call& call) {
    const auto all = contexts(*m);
    for (const auto& [cid, ctx] : all.items()) {
      const bool on = m->runtime().active_contexts.contains(std::stoi(cid));
      call.responder.info("+CGACT: " + cid + "," + (on ? "1" : "0"));
    }
    call.responder.ok();
  };
  (void)registry.add("+CGACT", std::move(cgact));
}

// AT+QCFG settings: name -> default and allowed range. Unknown names: ERROR.
struct QcfgItem {
  const char* name;
  int fallback;
  int min, max;
};
constexpr QcfgItem kQcfg[] = {
    {"fota/cid", 1, 1, kMaxCid}, {"nwscanmode", 0, 0, 3}, {"iotopmode", 2, 0, 2},
    {"servicedomain", 1, 1, 2},  {"psm/urc", 0, 0, 1},    {"apready", 0, 0, 1},
};

void register_qcfg(at::Registry& registry, Module* m) {
  at::CommandSpec spec;
  spec.write = [m](at::Call& call) {
    const auto name = str_arg(call.command, 0);
    const QcfgItem* item = nullptr;
    for (const auto& candidate : kQcfg) {
      if (name && *name == candidate.name) item = &candidate;
    }
    if (!item) return void(call.responder.error());
    const std::string key = std::string("qcfg/") + item->name;
    if (call.command.args.size() == 1) {
      call.responder.info("+QCFG: " + quoted(item->name) + "," +
                          std::to_string(m->nv().get(key, item->fallback).get<int>()));
      return void(call.responder.ok());
    }
    const auto value = int_arg(call.command, 1, item->min, item->max);
    if (!value) return void(call.responder.error());
    m->nv().set(key, *value);
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    for (const auto& item : kQcfg) {
      call.responder.info("+QCFG: " + quoted(item.name) + ",(" + std::to_string(item.min) + "-" +
                          std::to_string(item.max) + ")");
    }
    call.responder.ok();
  };
  (void)registry.add("+QCFG", std::move(spec));
}

void register_qurccfg(at::Registry& registry, Module* m) {
  at::CommandSpec spec;
  spec.write = [m](at::Call& call) {
    const auto name = str_arg(call.command, 0);
    if (!name || *name != "urcport") return void(call.responder.error());
    if (call.command.args.size() == 1) {
      call.responder.info("+QURCCFG: \"urcport\"," +
                          quoted(m->nv().get("urcport", "usbat").get<std::string>()));
      return void(call.responder.ok());
    }
    const auto port = str_arg(call.command, 1);
    if (!port || (*port != "usbat" && *port != "usbmodem" && *port != "uart1"))
      return void(call.responder.error());
    m->nv().set("urcport", *port);
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+QURCCFG: \"urcport\",(\"usbat\",\"usbmodem\",\"uart1\")");
    call.responder.ok();
  };
  (void)registry.add("+QURCCFG", std::move(spec));
}

}  // namespace

bool pdp_context_defined(Module& module, int cid) {
  return contexts(module).contains(std::to_string(cid));
}

void register_config_commands(at::Registry& registry, Module& module) {
  register_cgdcont(registry, &module);
  register_qicsgp(registry, &module);
  register_activation(registry, &module);
  register_qcfg(registry, &module);
  register_qurccfg(registry, &module);
}

}  // namespace vmodem::sim
