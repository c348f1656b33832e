// Control-socket input is whatever a local process writes: any bytes, split
// into lines, must give a valid request or an error object, never a crash,
// and every reply must be exactly one line of JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/protocol.hpp"
#include "control/requests.hpp"

namespace {

using nlohmann::json;
using namespace vmodem::sim;

// Answers every call by echoing what the request builders produced.
class EchoTarget : public ControlTarget {
 public:
  ControlResult status() override { return json::object(); }
  ControlResult power_on() override { return json::object(); }
  ControlResult power_off() override { return json::object(); }
  ControlResult power_cut(const PowerCutRequest& r) override {
    if (r.when == PowerCutRequest::When::random_window && r.window_first > r.window_last)
      std::abort();  // the validator must have refused this
    return json{{"when", static_cast<int>(r.when)}, {"ops", r.op_kinds}, {"n", r.operations}};
  }
  ControlResult reset() override { return tl::unexpected(ControlError{"DeviceBusy", "x"}); }
  ControlResult inject(const InjectRequest& r) override {
    return json{{"kind", static_cast<int>(r.kind)}, {"partition", r.partition}, {"path", r.path}};
  }
  ControlResult stats() override { return json::object(); }
  void snapshot_save(const std::string& path, ControlReply done) override {
    if (path.empty() || path.front() != '/') std::abort();  // paths are absolute
    done(json{{"path", path}});
  }
  void snapshot_load(const std::string& path, ControlReply done) override {
    snapshot_save(path, std::move(done));
  }
  ControlResult backup_info(const std::string& fs) override { return json{{"fs", fs}}; }
  std::uint64_t subscribe(std::function<void(const json&)>) override { return 1; }
  void unsubscribe(std::uint64_t) override {}
};

void check_line(const std::string& line) {
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) std::abort();
  const json reply = json::parse(line, nullptr, false);
  if (!reply.is_object() || !(reply.contains("return") || reply.contains("error"))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static EchoTarget target;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto newline = input.find('\n');
    const auto line = input.substr(0, newline);
    input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
    auto parsed = control::parse_request(line);
    if (parsed.empty) continue;
    if (!parsed.request) {
      check_line(control::error_line(parsed.request.error(), parsed.id));
      continue;
    }
    const auto name = parsed.request->command->name;
    if (!control::is_target_command(name)) {
      check_line(control::return_line(control::describe_commands(), parsed.id));
      continue;
    }
    int replies = 0;
    control::call_target(target, name, parsed.request->arguments, [&](ControlResult result) {
      ++replies;
      check_line(result ? control::return_line(*result, parsed.id)
                        : control::error_line(result.error(), parsed.id));
    });
    if (replies != 1) std::abort();  // every request is answered exactly once
  }
  return 0;
}
