// The 27.005 SMS commands as a BG95 answers them: AT+CMGF, +CSDH, +CSMS,
// +CSCA, +CPMS, +CNMI, +CSMP, +CMGS, +CMGW, +CMSS, +CMGR, +CMGL, +CMGD, in
// PDU mode (0, the default) and text mode (1). Errors are `+CMS ERROR: <n>`
// (27.005 §3.2.5) whatever AT+CMEE says. The store, the settings and the
// network side are in sms/sms_service.hpp.
//
//   AT+CMGF=1
//   OK
//   AT+CMGS="+4917012345"
//   > hello<Ctrl-Z>
//   +CMGS: 0
//   OK
#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"
#include "commands/handler_util.hpp"
#include "commands/sim_card.hpp"
#include "hex.hpp"
#include "sms/sms_service.hpp"

namespace vmodem::sim {

namespace {

using sms::Memory;
using sms::Status;

// A host typing by hand gets time; the module holds the port meanwhile.
constexpr std::chrono::seconds kInputInactivity{120};
constexpr std::size_t kMaxTextInput = 1024;  // ample for 160 characters or 140 octets as hex

struct SmsParts {
  sms::SmsService& service;
  SimCard& sim;
  RuntimeState& radio;
  NvSettings& nv;
};

// +CMS ERROR codes (27.005 §3.2.5) as final results: Failure::text needs
// text with static storage.
at::Failure cms(int code) {
  switch (code) {
    case 302:
      return at::Failure::text("+CMS ERROR: 302");  // operation not allowed
    case 303:
      return at::Failure::text("+CMS ERROR: 303");  // operation not supported
    case 304:
      return at::Failure::text("+CMS ERROR: 304");  // invalid PDU mode parameter
    case 305:
      return at::Failure::text("+CMS ERROR: 305");  // invalid text mode parameter
    case 310:
      return at::Failure::text("+CMS ERROR: 310");  // SIM not inserted
    case 311:
      return at::Failure::text("+CMS ERROR: 311");  // SIM PIN required
    case 313:
      return at::Failure::text("+CMS ERROR: 313");  // SIM failure
    case 316:
      return at::Failure::text("+CMS ERROR: 316");  // SIM PUK required
    case 321:
      return at::Failure::text("+CMS ERROR: 321");  // invalid memory index
    case 322:
      return at::Failure::text("+CMS ERROR: 322");  // memory full
    case 330:
      return at::Failure::text("+CMS ERROR: 330");  // SMSC address unknown
    case 331:
      return at::Failure::text("+CMS ERROR: 331");  // no network service
    default:
      return at::Failure::text("+CMS ERROR: 500");  // unknown error
  }
}

void fail(at::Call& call, int code) {
  call.responder.fail(cms(code));
}

// A bad parameter in the port's mode.
int bad_param(const SmsParts& m) {
  return m.service.settings().cmgf == 1 ? 305 : 304;
}

// The SIM's refusal as a +CMS code (its +CME code + 300; PUK is 316).
std::optional<int> sim_refusal(const SmsParts& m) {
  const auto cme = m.sim.refusal(true);
  if (!cme) return std::nullopt;
  switch (*cme) {
    case kCmeSimNotInserted:
      return 310;
    case kCmeSimPinRequired:
      return 311;
    case kCmeSimPukRequired:
      return 316;
    case kCmeSimFailure:
      return 313;
    default:
      return 500;
  }
}

// Wraps a handler so that it runs only with a ready SIM.
at::Handler with_sim(const SmsParts& m, at::Handler handler) {
  return [m, handler = std::move(handler)](at::Call& call) {
    if (const auto refused = sim_refusal(m)) return fail(call, *refused);
    handler(call);
  };
}

std::string upper_hex(const sms::Bytes& bytes) {
  std::string hex = to_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  for (char& c : hex) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return hex;
}

std::size_t tpdu_length(const sms::Bytes& pdu) {
  return pdu.size() - sms::sca_field_length(pdu).value_or(0);
}

// A simple integer setting with read, write and test forms.
void register_flag(at::Registry& registry, const char* name, int max,
                   const std::function<int&(sms::Settings&)>& field, sms::SmsService& service) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [&service, field, name](at::Call& call) {
    call.responder.info(std::string(name) + ": " + std::to_string(field(service.settings())));
    call.responder.ok();
  };
  spec.write = [&service, field, max](at::Call& call) {
    const auto value = int_arg(call.command, 0, 0, max);
    if (!value || call.command.args.size() > 1) return void(call.responder.error());
    field(service.settings()) = static_cast<int>(*value);
    call.responder.ok();
  };
  spec.test = [name, max](at::Call& call) {
    call.responder.info(std::string(name) + ": (0-" + std::to_string(max) + ")");
    call.responder.ok();
  };
  (void)registry.add(name, std::move(spec));
}

void register_csms(at::Registry& registry) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [](at::Call& call) {
    call.responder.info("+CSMS: 0,1,1,1");
    call.responder.ok();
  };
  spec.write = [](at::Call& call) {
    if (!int_arg(call.command, 0, 0, 1) || call.command.args.size() > 1) return fail(call, 302);
    call.responder.info("+CSMS: 1,1,1");
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+CSMS: (0,1)");
    call.responder.ok();
  };
  (void)registry.add("+CSMS", std::move(spec));
}

void register_csca(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = with_sim(m, [m](at::Call& call) {
    const sms::Address sca = m.service.service_centre();
    call.responder.info("+CSCA: \"" + sca.number + "\"," + std::to_string(sca.toa));
    call.responder.ok();
  });
  spec.write = with_sim(m, [m](at::Call& call) {
    const auto number = str_arg(call.command, 0);
    const auto toa =
        call.command.arg(1).is_omitted() ? std::nullopt : int_arg(call.command, 1, 0, 255);
    if (!number || (!call.command.arg(1).is_omitted() && !toa) || call.command.args.size() > 2)
      return fail(call, bad_param(m));
    const auto address = toa ? sms::address_from_text(*number, static_cast<std::uint8_t>(*toa))
                             : sms::address_from_text(*number);
    if (!address) return fail(call, bad_param(m));
    m.service.store().set_service_centre(*address);
    call.responder.ok();
  });
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CSCA", std::move(spec));
}

std::string cpms_counts(const sms::MessageStore& store, bool names) {
  std::string out;
  for (const Memory mem : store.preferred()) {
    if (!out.empty()) out += ",";
    if (names) out += "\"" + std::string(to_string(mem)) + "\",";
    out += std::to_string(store.used(mem)) + "," + std::to_string(sms::capacity(mem));
  }
  return out;
}

void register_cpms(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = with_sim(m, [m](at::Call& call) {
    call.responder.info("+CPMS: " + cpms_counts(m.service.store(), true));
    call.responder.ok();
  });
  spec.write = with_sim(m, [m](at::Call& call) {
    auto mems = m.service.store().preferred();
    if (call.command.args.empty() || call.command.args.size() > 3) return fail(call, 302);
    for (std::size_t i = 0; i < call.command.args.size(); ++i) {
      if (i > 0 && call.command.arg(i).is_omitted()) continue;
      const auto name = str_arg(call.command, i);
      const auto mem = name ? sms::memory_from(*name) : std::nullopt;
      if (!mem) return fail(call, 302);
      mems.at(i) = *mem;
    }
    m.service.store().set_preferred(mems);
    call.responder.info("+CPMS: " + cpms_counts(m.service.store(), false));
    call.responder.ok();
  });
  spec.test = [](at::Call& call) {
    call.responder.info("+CPMS: (\"SM\",\"ME\"),(\"SM\",\"ME\"),(\"SM\",\"ME\")");
    call.responder.ok();
  };
  (void)registry.add("+CPMS", std::move(spec));
}

void register_cnmi(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [m](at::Call& call) {
    const auto& c = m.service.settings().cnmi;
    call.responder.info("+CNMI: " + std::to_string(c[0]) + "," + std::to_string(c[1]) + "," +
                        std::to_string(c[2]) + "," + std::to_string(c[3]) + "," +
                        std::to_string(c[4]));
    call.responder.ok();
  };
  spec.write = [m](at::Call& call) {
    constexpr std::array<int, 5> kMax{2, 3, 3, 2, 1};
    auto cnmi = m.service.settings().cnmi;
    if (call.command.args.empty() || call.command.args.size() > 5) return fail(call, 302);
    for (std::size_t i = 0; i < call.command.args.size(); ++i) {
      if (call.command.arg(i).is_omitted()) continue;
      const auto value = int_arg(call.command, i, 0, kMax.at(i));
      if (!value) return fail(call, 302);
      cnmi.at(i) = static_cast<int>(*value);
    }
    m.service.settings().cnmi = cnmi;
    call.responder.ok();
  };
  spec.test = [](at::Call& call) {
    call.responder.info("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)");
    call.responder.ok();
  };
  (void)registry.add("+CNMI", std::move(spec));
}

void register_csmp(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.read = [m](at::Call& call) {
    const auto& c = m.service.settings().csmp;
    call.responder.info("+CSMP: " + std::to_string(c[0]) + "," + std::to_string(c[1]) + "," +
                        std::to_string(c[2]) + "," + std::to_string(c[3]));
    call.responder.ok();
  };
  spec.write = [m](at::Call& call) {
    auto csmp = m.service.settings().csmp;
    if (call.command.args.empty() || call.command.args.size() > 4) return fail(call, 305);
    for (std::size_t i = 0; i < call.command.args.size(); ++i) {
      if (call.command.arg(i).is_omitted()) continue;
      const auto value = int_arg(call.command, i, 0, 255);
      if (!value) return fail(call, 305);
      csmp.at(i) = static_cast<int>(*value);
    }
    if ((csmp[0] & 0x03) != 0x01) return fail(call, 305);  // must be an SMS-SUBMIT
    m.service.settings().csmp = csmp;
    call.responder.ok();
  };
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CSMP", std::move(spec));
}

// What the host typed after the prompt.
struct Input {
  std::string bytes;
};

// The prompt, then the text or hex PDU up to Ctrl-Z; ESC cancels (OK,
// nothing sent). `done` gets the bytes and answers.
void prompt_for(at::Call& call, std::function<void(at::Responder&, const std::string&)> done) {
  auto data = std::make_shared<std::string>();
  at::UploadSpec upload;
  upload.prompt = "\r\n> ";
  upload.ends_at_ctrl_z = true;
  upload.expected_bytes = kMaxTextInput;
  upload.inactivity_timeout = kInputInactivity;
  upload.on_data = [data](std::span<const std::uint8_t> bytes) {
    data->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  upload.on_end = [data, done = std::move(done), responder = call.responder](at::UploadEnd end,
                                                                             std::size_t) mutable {
    if (end == at::UploadEnd::kAborted) return;
    if (end == at::UploadEnd::kCancelled) return void(responder.ok());
    if (end == at::UploadEnd::kTimeout) return void(responder.fail(cms(500)));
    done(responder, *data);
  };
  if (!call.responder.start_upload(std::move(upload))) call.responder.error();
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \r\n\t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \r\n\t");
  return text.substr(first, last - first + 1);
}

// A PDU-mode upload: hex of the SCA field and a TPDU of `length` octets.
std::optional<sms::Bytes> pdu_input(const std::string& typed, std::size_t length) {
  const auto raw = from_hex(trimmed(typed));
  if (!raw) return std::nullopt;
  sms::Bytes pdu(raw->begin(), raw->end());
  const auto sca = sms::sca_field_length(pdu);
  if (!sca || pdu.size() - *sca != length) return std::nullopt;
  return pdu;
}

// A text-mode upload as an SMS-SUBMIT with AT+CSMP's parameters; nullopt
// when it does not fit one message.
std::optional<sms::Submit> text_submit(const SmsParts& m, const sms::Address& da,
                                       const std::string& typed) {
  const auto& csmp = m.service.settings().csmp;
  sms::Submit s;
  s.first_octet = static_cast<std::uint8_t>(csmp[0]);
  if (((csmp[0] >> 3) & 0x03) == 2) s.vp_relative = static_cast<std::uint8_t>(csmp[1]);
  s.first_octet &= static_cast<std::uint8_t>(~0x58u);  // VPF and UDHI set by the encoder
  s.da = da;
  s.pid = static_cast<std::uint8_t>(csmp[2]);
  s.dcs = static_cast<std::uint8_t>(csmp[3]);
  std::string text = typed;
  if (m.nv.values().cscs == "UCS2") {
    const auto raw = from_hex(trimmed(typed));
    if (!raw) return std::nullopt;
    text = sms::ucs2_to_utf8({reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size()});
  }
  switch (sms::alphabet_of(s.dcs)) {
    case sms::Alphabet::gsm7: {
      s.ud.text = sms::gsm7_sanitized(text);
      const auto septets = sms::gsm7_from_utf8(s.ud.text);
      if (!septets || septets->size() > 160) return std::nullopt;
      break;
    }
    case sms::Alphabet::ucs2:
      s.ud.text = sms::host_text_to_utf8(text);
      if (sms::ucs2_from_utf8(s.ud.text).value_or(sms::Bytes{}).size() > 140) return std::nullopt;
      break;
    case sms::Alphabet::eight_bit:
      s.ud.data.assign(text.begin(), text.end());
      if (s.ud.data.size() > 140) return std::nullopt;
      break;
  }
  return s;
}

// "<da>"[,<toda>] of text-mode AT+CMGS / AT+CMGW / AT+CMSS from argument `i`.
std::optional<sms::Address> text_address(const at::Command& command, std::size_t i,
                                         const std::string& cscs) {
  auto number = str_arg(command, i);
  if (!number) return std::nullopt;
  if (cscs == "UCS2") {
    const auto raw = from_hex(*number);
    if (!raw) return std::nullopt;
    number = sms::ucs2_to_utf8({reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size()});
  }
  if (command.arg(i + 1).is_omitted()) return sms::address_from_text(*number);
  const auto toa = int_arg(command, i + 1, 128, 255);
  if (!toa) return std::nullopt;
  return sms::address_from_text(*number, static_cast<std::uint8_t>(*toa));
}

void register_cmgs(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = with_sim(m, [m](at::Call& call) {
    if (!m.radio.registered()) return fail(call, 331);
    if (m.service.settings().cmgf == 0) {
      const auto length = int_arg(call.command, 0, 7, 164);
      if (!length || call.command.args.size() > 1) return fail(call, 304);
      return prompt_for(call, [m, length = static_cast<std::size_t>(*length)](
                                  at::Responder& responder, const std::string& typed) {
        const auto pdu = pdu_input(typed, length);
        const auto submit = pdu ? sms::decode_submit(*pdu)
                                : tl::expected<sms::Submit, std::string>(tl::unexpect, "");
        if (!submit) return void(responder.fail(cms(304)));
        const auto mr = m.service.send(*submit);
        responder.info("+CMGS: " + std::to_string(mr));
        responder.ok();
      });
    }
    const auto da = text_address(call.command, 0, m.nv.values().cscs);
    if (!da || call.command.args.size() > 2) return fail(call, 305);
    prompt_for(call, [m, da = *da](at::Responder& responder, const std::string& typed) {
      const auto submit = text_submit(m, da, typed);
      if (!submit) return void(responder.fail(cms(305)));
      const auto mr = m.service.send(*submit);
      responder.info("+CMGS: " + std::to_string(mr));
      responder.ok();
    });
  });
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CMGS", std::move(spec));
}

void store_written(at::Responder& responder, const SmsParts& m, sms::Stored message) {
  const auto index = m.service.store().add(m.service.store().preferred()[1], std::move(message));
  if (!index) return void(responder.fail(cms(322)));
  responder.info("+CMGW: " + std::to_string(*index));
  responder.ok();
}

void register_cmgw(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto write = with_sim(m, [m](at::Call& call) {
    const Memory mem2 = m.service.store().preferred()[1];
    if (m.service.store().used(mem2) >= sms::capacity(mem2)) return fail(call, 322);
    if (m.service.settings().cmgf == 0) {
      const auto length = int_arg(call.command, 0, 7, 164);
      const auto stat = call.command.arg(1).is_omitted() ? std::optional<std::int64_t>(2)
                                                         : int_arg(call.command, 1, 0, 3);
      if (!length || !stat || call.command.args.size() > 2) return fail(call, 304);
      return prompt_for(call, [m, length = static_cast<std::size_t>(*length),
                               status = static_cast<Status>(*stat)](at::Responder& responder,
                                                                    const std::string& typed) {
        const auto pdu = pdu_input(typed, length);
        const bool received = status == Status::rec_unread || status == Status::rec_read;
        const bool valid = pdu && (received ? sms::decode_deliver(*pdu).has_value()
                                            : sms::decode_submit(*pdu).has_value());
        if (!valid) return void(responder.fail(cms(304)));
        store_written(responder, m, sms::Stored{status, *pdu});
      });
    }
    std::optional<sms::Address> da;
    if (!call.command.args.empty()) {
      da = text_address(call.command, 0, m.nv.values().cscs);
      if (!da) return fail(call, 305);
    }
    Status status = Status::sto_unsent;
    if (!call.command.arg(2).is_omitted()) {
      const auto name = str_arg(call.command, 2);
      const auto parsed = name ? sms::status_from(*name) : std::nullopt;
      if (parsed != Status::sto_unsent && parsed != Status::sto_sent) return fail(call, 305);
      status = *parsed;
    }
    if (call.command.args.size() > 3) return fail(call, 305);
    prompt_for(call, [m, da, status](at::Responder& responder, const std::string& typed) {
      // A draft without a recipient keeps an empty address.
      auto submit = text_submit(m, da.value_or(sms::Address{}), typed);
      if (!submit) return void(responder.fail(cms(305)));
      submit->sca = m.service.service_centre();
      store_written(responder, m, sms::Stored{status, sms::encode_submit(*submit)});
    });
  });
  spec.write = write;
  spec.execute = write;
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CMGW", std::move(spec));
}

void register_cmss(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = with_sim(m, [m](at::Call& call) {
    const Memory mem2 = m.service.store().preferred()[1];
    const auto index = int_arg(call.command, 0, 0, sms::capacity(mem2) - 1);
    if (!index) return fail(call, 321);
    const sms::Stored* stored = m.service.store().get(mem2, static_cast<int>(*index));
    if (!stored) return fail(call, 321);
    if (stored->status == Status::rec_unread || stored->status == Status::rec_read)
      return fail(call, 302);
    auto submit = sms::decode_submit(stored->pdu);
    if (!submit) return fail(call, 500);
    if (call.command.args.size() > 1) {
      const auto da = text_address(call.command, 1, m.nv.values().cscs);
      if (!da || call.command.args.size() > 3) return fail(call, bad_param(m));
      submit->da = *da;
    }
    if (submit->da.number.empty()) return fail(call, bad_param(m));
    if (!m.radio.registered()) return fail(call, 331);
    const auto mr = m.service.send(*submit);
    (void)m.service.store().set_status(mem2, static_cast<int>(*index), Status::sto_sent);
    call.responder.info("+CMSS: " + std::to_string(mr));
    call.responder.ok();
  });
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CMSS", std::move(spec));
}

// The header line's fields after <stat> and the data line, text mode.
struct TextLines {
  std::string fields;  // "<oa>",,"<scts>"[,...]
  std::string data;
};

std::optional<TextLines> text_lines(const SmsParts& m, const sms::Stored& stored, bool listing) {
  const std::string& cscs = m.nv.values().cscs;
  const bool csdh = m.service.settings().csdh == 1;
  if (stored.status == Status::rec_unread || stored.status == Status::rec_read) {
    const auto d = sms::decode_deliver(stored.pdu);
    if (!d) return std::nullopt;
    TextLines out{"\"" + sms::text_mode_address(d->oa, cscs) + "\",,\"" + to_text(d->scts) + "\"",
                  sms::text_mode_data(d->ud, d->dcs, cscs)};
    if (csdh && listing) {
      out.fields += "," + std::to_string(d->oa.toa) + "," + std::to_string(d->ud.length);
    } else if (csdh) {
      const sms::Address sca = d->sca.value_or(m.service.service_centre());
      out.fields += "," + std::to_string(d->oa.toa) + "," + std::to_string(d->first_octet) + "," +
                    std::to_string(d->pid) + "," + std::to_string(d->dcs) + ",\"" + sca.number +
                    "\"," + std::to_string(sca.toa) + "," + std::to_string(d->ud.length);
    }
    return out;
  }
  const auto s = sms::decode_submit(stored.pdu);
  if (!s) return std::nullopt;
  TextLines out{"\"" + sms::text_mode_address(s->da, cscs) + "\",",
                sms::text_mode_data(s->ud, s->dcs, cscs)};
  if (listing) out.fields += ",";
  if (csdh && listing) {
    out.fields += "," + std::to_string(s->da.toa) + "," + std::to_string(s->ud.length);
  } else if (csdh) {
    const sms::Address sca = s->sca.value_or(m.service.service_centre());
    out.fields += "," + std::to_string(s->da.toa) + "," + std::to_string(s->first_octet) + "," +
                  std::to_string(s->pid) + "," + std::to_string(s->dcs) + "," +
                  (s->vp_relative ? std::to_string(*s->vp_relative) : std::string()) + ",\"" +
                  sca.number + "\"," + std::to_string(sca.toa) + "," + std::to_string(s->ud.length);
  }
  return out;
}

void register_cmgr(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = with_sim(m, [m](at::Call& call) {
    const Memory mem1 = m.service.store().preferred()[0];
    const auto index = int_arg(call.command, 0, 0, sms::capacity(mem1) - 1);
    if (!index || call.command.args.size() > 1) return fail(call, 321);
    const int i = static_cast<int>(*index);
    const sms::Stored* stored = m.service.store().get(mem1, i);
    if (!stored) return fail(call, 321);
    const sms::Stored shown = *stored;
    if (m.service.settings().cmgf == 0) {
      call.responder.info("+CMGR: " + std::to_string(static_cast<int>(shown.status)) + ",," +
                          std::to_string(tpdu_length(shown.pdu)));
      call.responder.info(upper_hex(shown.pdu));
    } else {
      const auto lines = text_lines(m, shown, false);
      if (!lines) return fail(call, 500);
      call.responder.info("+CMGR: \"" + std::string(to_string(shown.status)) + "\"," +
                          lines->fields);
      call.responder.info(lines->data);
    }
    if (shown.status == Status::rec_unread)
      (void)m.service.store().set_status(mem1, i, Status::rec_read);
    call.responder.ok();
  });
  spec.test = [](at::Call& call) { call.responder.ok(); };
  (void)registry.add("+CMGR", std::move(spec));
}

void register_cmgl(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  auto list = with_sim(m, [m](at::Call& call) {
    const bool pdu_mode = m.service.settings().cmgf == 0;
    std::optional<Status> only = Status::rec_unread;  // nullopt: ALL
    if (!call.command.args.empty()) {
      if (call.command.args.size() > 2) return fail(call, bad_param(m));
      if (pdu_mode) {
        const auto stat = int_arg(call.command, 0, 0, 4);
        if (!stat) return fail(call, 304);
        only = *stat == 4 ? std::nullopt : std::optional(static_cast<Status>(*stat));
      } else {
        const auto name = str_arg(call.command, 0);
        if (!name) return fail(call, 305);
        only = sms::status_from(*name);
        if (!only && *name != "ALL") return fail(call, 305);
      }
    }
    const Memory mem1 = m.service.store().preferred()[0];
    std::vector<int> listed;
    for (const auto& [index, stored] : m.service.store().slots(mem1)) {
      if (only && stored.status != *only) continue;
      if (pdu_mode) {
        call.responder.info("+CMGL: " + std::to_string(index) + "," +
                            std::to_string(static_cast<int>(stored.status)) + ",," +
                            std::to_string(tpdu_length(stored.pdu)));
        call.responder.info(upper_hex(stored.pdu));
      } else if (const auto lines = text_lines(m, stored, true)) {
        call.responder.info("+CMGL: " + std::to_string(index) + ",\"" +
                            std::string(to_string(stored.status)) + "\"," + lines->fields);
        call.responder.info(lines->data);
      }
      listed.push_back(index);
    }
    for (const int index : listed) {
      const sms::Stored* stored = m.service.store().get(mem1, index);
      if (stored && stored->status == Status::rec_unread)
        (void)m.service.store().set_status(mem1, index, Status::rec_read);
    }
    call.responder.ok();
  });
  spec.write = list;
  spec.execute = list;
  spec.test = [m](at::Call& call) {
    call.responder.info(m.service.settings().cmgf == 0
                            ? "+CMGL: (0-4)"
                            : "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO "
                              "SENT\",\"ALL\")");
    call.responder.ok();
  };
  (void)registry.add("+CMGL", std::move(spec));
}

void register_cmgd(at::Registry& registry, const SmsParts& m) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = with_sim(m, [m](at::Call& call) {
    const Memory mem1 = m.service.store().preferred()[0];
    const auto index = int_arg(call.command, 0, 0, sms::capacity(mem1) - 1);
    const auto flag = call.command.arg(1).is_omitted() ? std::optional<std::int64_t>(0)
                                                       : int_arg(call.command, 1, 0, 4);
    if (!flag || call.command.args.size() > 2) return fail(call, 302);
    if (*flag == 0) {
      if (!index) return fail(call, 321);
      (void)m.service.store().erase(mem1, static_cast<int>(*index));  // an empty one: OK too
    } else {
      m.service.store().erase_by_flag(mem1, static_cast<int>(*flag));
    }
    call.responder.ok();
  });
  spec.test = with_sim(m, [m](at::Call& call) {
    std::string used;
    for (const auto& [index, stored] : m.service.store().slots(m.service.store().preferred()[0]))
      used += (used.empty() ? "" : ",") + std::to_string(index);
    call.responder.info("+CMGD: (" + used + "),(0-4)");
    call.responder.ok();
  });
  (void)registry.add("+CMGD", std::move(spec));
}

}  // namespace

void register_sms_commands(at::Registry& registry, sms::SmsService& service, SimCard& sim,
                           RuntimeState& radio, NvSettings& nv) {
  const SmsParts parts{service, sim, radio, nv};
  register_flag(
      registry, "+CMGF", 1, [](sms::Settings& s) -> int& { return s.cmgf; }, service);
  register_flag(
      registry, "+CSDH", 1, [](sms::Settings& s) -> int& { return s.csdh; }, service);
  register_csms(registry);
  register_csca(registry, parts);
  register_cpms(registry, parts);
  register_cnmi(registry, parts);
  register_csmp(registry, parts);
  register_cmgs(registry, parts);
  register_cmgw(registry, parts);
  register_cmss(registry, parts);
  register_cmgr(registry, parts);
  register_cmgl(registry, parts);
  register_cmgd(registry, parts);
}

}  // namespace vmodem::sim
