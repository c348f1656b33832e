// vmodem ctl: the client of a running module's control socket.
//
//   vmodem ctl [--state DIR | --socket PATH] [--json] COMMAND [--ARG VALUE ...]
//   vmodem ctl events [--count N] [--filter NAME,...]
//   vmodem ctl raw '{"execute":"status"}'
//
// One subcommand per schema command, generated from the same table the
// server validates with, so options, allowed values and --help always match
// the server. Values are converted to the schema's types here (integers,
// paths made absolute, JSON objects) and the server checks them again.
#include <csignal>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/ctl_client.hpp"
#include "cli/ctl_format.hpp"
#include "cli/output.hpp"
#include "cli/state_dir.hpp"
#include "control/schema.hpp"
#include "json_text.hpp"

namespace vmodem::cli {

namespace {

using nlohmann::json;
using sim::control::ArgSpec;
using sim::control::ArgType;
using sim::control::CommandSpec;

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
  g_interrupted = 1;
}

struct CtlArgs {
  std::string state;
  std::string socket;
  std::string profile = sim::kDefaultProfile;
  bool json = false;
  double timeout_s = 30;
  // Option storage per "command/argument"; std::map keeps addresses stable
  // for CLI11.
  std::map<std::string, std::string> scalars;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, bool> flags;
  std::map<std::string, CLI::Option*> options;
  // events
  std::uint64_t count = 0;
  std::vector<std::string> filter;
  // raw
  std::string raw_line;
};

std::filesystem::path socket_path(const CtlArgs& args) {
  if (!args.socket.empty()) return args.socket;
  const std::filesystem::path state =
      args.state.empty() ? default_state_dir(args.profile) : std::filesystem::path(args.state);
  return state / kControlSocketName;
}

int timeout_ms(const CtlArgs& args) {
  return args.timeout_s <= 0 ? -1 : static_cast<int>(args.timeout_s * 1000);
}

int client_error(const ClientError& error) {
  switch (error.kind) {
    case ClientError::Kind::interrupted:
      return kExitOk;
    case ClientError::Kind::unavailable:
    case ClientError::Kind::timeout:
    case ClientError::Kind::closed:
      return report_error(kExitUnavailable, error.message);
    case ClientError::Kind::io:
      break;
  }
  return report_error(kExitIo, error.message);
}

tl::expected<json, std::string> convert(const ArgSpec& spec, const std::string& text) {
  // The protocol is JSON: its strings are UTF-8 (and dump() throws on others).
  if (!sim::is_valid_utf8(text)) return tl::unexpected(std::string("expected UTF-8 text"));
  switch (spec.type) {
    case ArgType::seed:  // sent as a decimal string: exact whatever parses it
      if (auto number = parse_seed(text)) return json(std::to_string(*number));
      return tl::unexpected("expected a non-negative integer, got '" + text + "'");
    case ArgType::integer:
    case ArgType::integer_list: {
      if (auto number = parse_seed(text)) return json(*number);
      return tl::unexpected("expected a non-negative integer, got '" + text + "'");
    }
    case ArgType::number: {
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0')
        return tl::unexpected("expected a number, got '" + text + "'");
      return json(value);
    }
    case ArgType::path:
      return json(std::filesystem::absolute(text).lexically_normal().string());
    case ArgType::object: {
      json value = json::parse(text, nullptr, false);
      if (value.is_discarded() || !value.is_object()) {
        return tl::unexpected(
            std::string("expected a JSON object like '{\"effect\":\"unstable\"}'"));
      }
      return value;
    }
    case ArgType::boolean:
      return json(true);
    case ArgType::string:
    case ArgType::string_list:
      break;
  }
  return json(text);
}

// The request's "arguments" from the options the user gave.
tl::expected<json, std::string> arguments_for(const CommandSpec& command, const CtlArgs& args) {
  json out = json::object();
  for (const auto& spec : command.args) {
    const std::string key = std::string(command.name) + "/" + std::string(spec.name);
    const std::string flag = "--" + std::string(spec.name);
    if (args.options.at(key)->count() == 0) continue;
    if (spec.type == ArgType::boolean) {
      out[spec.name] = args.flags.at(key);
    } else if (spec.type == ArgType::string_list || spec.type == ArgType::integer_list) {
      json list = json::array();
      for (const auto& element : args.lists.at(key)) {
        auto value = convert(spec, element);
        if (!value) return tl::unexpected(flag + ": " + value.error());
        list.push_back(std::move(*value));
      }
      out[spec.name] = std::move(list);
    } else {
      auto value = convert(spec, args.scalars.at(key));
      if (!value) return tl::unexpected(flag + ": " + value.error());
      out[spec.name] = std::move(*value);
    }
  }
  return out;
}

// Prints a reply; returns the exit code.
int print_reply(std::string_view command, const json& reply, bool as_json) {
  if (reply.contains("return")) {
    if (as_json) {
      print_json(reply["return"]);
    } else {
      std::cout << format_return(command, reply["return"]);
    }
    return kExitOk;
  }
  const json error = reply.contains("error") ? reply["error"] : reply;
  if (as_json) print_json(error);
  const auto text = [&error](const char* key) {
    return error.is_object() && error.contains(key) && error[key].is_string()
               ? error[key].get<std::string>()
               : std::string("?");
  };
  return report_error(kExitFailure,
                      std::string(command) + ": " + text("class") + ": " + text("desc"));
}

int run_command(const CommandSpec& command, const CtlArgs& args) {
  auto arguments = arguments_for(command, args);
  if (!arguments) return report_error(kExitUsage, arguments.error());
  auto client = ControlClient::connect(socket_path(args), timeout_ms(args));
  if (!client) return client_error(client.error());
  auto reply = client->execute(std::string(command.name), *arguments, timeout_ms(args), nullptr);
  if (!reply) return client_error(reply.error());
  return print_reply(command.name, *reply, args.json);
}

int run_events(const CtlArgs& args) {
  auto client = ControlClient::connect(socket_path(args), timeout_ms(args));
  if (!client) return client_error(client.error());
  json arguments = json::object();
  for (const auto& name : args.filter) {
    if (!sim::is_valid_utf8(name)) return report_error(kExitUsage, "--filter: expected UTF-8 text");
  }
  if (!args.filter.empty()) arguments["events"] = args.filter;
  auto reply = client->execute("subscribe", arguments, timeout_ms(args), nullptr);
  if (!reply) return client_error(reply.error());
  if (!reply->contains("return")) return print_reply("subscribe", *reply, args.json);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  for (std::uint64_t seen = 0; args.count == 0 || seen < args.count;) {
    auto message = client->read_message(-1, &g_interrupted);
    if (!message) return client_error(message.error());
    if (!message->is_object() || !message->contains("event")) continue;
    if (args.json) {
      std::cout << sim::json_safe(*message).dump() << "\n";
    } else {
      std::cout << format_event(*message);
    }
    std::cout.flush();  // a pipe reader sees each event as it happens
    ++seen;
  }
  return kExitOk;
}

int run_raw(const CtlArgs& args) {
  auto client = ControlClient::connect(socket_path(args), timeout_ms(args));
  if (!client) return client_error(client.error());
  if (auto sent = client->send_line(args.raw_line + "\n"); !sent) return client_error(sent.error());
  for (;;) {
    auto message = client->read_message(timeout_ms(args), nullptr);
    if (!message) return client_error(message.error());
    if (message->is_object() && message->contains("event")) continue;
    std::cout << sim::json_safe(*message).dump() << "\n";
    return message->is_object() && message->contains("return") ? kExitOk : kExitFailure;
  }
}

std::string type_name(ArgType type) {
  switch (type) {
    case ArgType::integer:
    case ArgType::integer_list:
    case ArgType::seed:
      return "INT";
    case ArgType::number:
      return "NUMBER";
    case ArgType::path:
      return "PATH";
    case ArgType::object:
      return "JSON";
    default:
      return "TEXT";
  }
}

void add_argument(CLI::App* sub, const CommandSpec& command, const ArgSpec& spec, CtlArgs& args) {
  const std::string key = std::string(command.name) + "/" + std::string(spec.name);
  const std::string flag = "--" + std::string(spec.name);
  std::string help(spec.description);
  if (spec.min) help += " (min " + std::to_string(*spec.min) + ")";
  if (spec.type == ArgType::object)
    help += "; JSON object, members: see `vmodem ctl query-commands`";
  CLI::Option* option = nullptr;
  if (spec.type == ArgType::boolean) {
    option = sub->add_flag(flag, args.flags[key], help);
  } else if (spec.type == ArgType::string_list || spec.type == ArgType::integer_list) {
    option = sub->add_option(flag, args.lists[key], help)->delimiter(',');
    if (spec.items) option->expected(static_cast<int>(*spec.items));
  } else {
    const std::string names = spec.positional ? std::string(spec.name) + "," + flag : flag;
    option = sub->add_option(names, args.scalars[key], help);
  }
  option->type_name(type_name(spec.type));
  if (!spec.allowed.empty()) {
    std::vector<std::string> allowed(spec.allowed.begin(), spec.allowed.end());
    option->check(CLI::IsMember(allowed));
  }
  if (spec.required) option->required();
  args.options[key] = option;
}

}  // namespace

void add_ctl_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<CtlArgs>();
  auto* ctl = app.add_subcommand("ctl", "Control a running module (`vmodem run`) over its socket");
  auto* state =
      ctl->add_option("--state,-s", args->state, "State directory of the module (default: run's)");
  ctl->add_option("--socket", args->socket, "Control socket path")->excludes(state);
  ctl->add_option("--profile,-p", args->profile, "Profile, to find the default state directory")
      ->capture_default_str();
  ctl->add_flag("--json", args->json, "Print the raw JSON return value (for scripts)");
  ctl->add_option("--timeout", args->timeout_s, "Seconds to wait for a reply (0: forever)")
      ->capture_default_str()
      ->check(kNotNegative);
  ctl->require_subcommand(1);
  ctl->fallthrough();  // `vmodem ctl status --json` works as well
  ctl->footer(
      "Exit codes: 0 ok, 1 the module answered with an error, 2 bad usage, 3 I/O error,\n"
      "6 no module running (start one with `vmodem run`) or it stopped answering.");

  for (const auto& command : sim::control::command_table()) {
    // Per-connection commands mean nothing for a one-shot client.
    if (command.name == "subscribe" || command.name == "unsubscribe" || command.name == "quit")
      continue;
    auto* sub = ctl->add_subcommand(std::string(command.name), std::string(command.description));
    std::string footer = "Returns: " + std::string(command.returns);
    if (!command.errors.empty()) {
      footer += "\nErrors:";
      for (const auto& error : command.errors)
        footer += " " + std::string(error);
    }
    sub->footer(footer);
    for (const auto& spec : command.args)
      add_argument(sub, command, spec, *args);
    commands.add(sub, [args, &command] { return run_command(command, *args); });
  }

  auto* events = ctl->add_subcommand("events", "Print events as they happen, until Ctrl-C");
  // CLI11 reads "-5" into an unsigned option as 2^64 - 5: refuse the sign.
  events->add_option("--count,-n", args->count, "Stop after this many events (0: never)")
      ->check(kNotNegative);
  events->add_option("--filter", args->filter, "Only these event names (e.g. POWER_STATE,URC)")
      ->delimiter(',');
  commands.add(events, [args] { return run_events(*args); });

  auto* raw = ctl->add_subcommand("raw", "Send one JSON request line, print the reply line");
  raw->add_option("LINE", args->raw_line, R"(e.g. '{"execute":"status"}')")->required();
  commands.add(raw, [args] { return run_raw(*args); });
}

}  // namespace vmodem::cli
