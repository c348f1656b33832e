// A Module in this process: its io_context on a thread of its own, calls
// made on that thread (on_io), control events collected, the AT port opened
// like a host (e2e Host). Module-level firmware update tests use it to call
// the real entry point, Module::stage_firmware_update(), as AT+QFOTADL does.
#pragma once

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>
#include <vmodem/fota/firmware_store.hpp>
#include <vmodem/fota/generator.hpp>
#include <vmodem/simulator/module.hpp>

#include "e2e_support.hpp"
#include "module/fota_firmware.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::testing {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

class ModuleHarness {
 public:
  // `image`: the NAND image to boot (default: a new one in the state directory).
  explicit ModuleHarness(Profile profile, std::uint64_t seed = 42, std::filesystem::path image = {})
      : work_(boost::asio::make_work_guard(io_)) {
    ModuleOptions options;
    options.state_dir = dir_.path() / "state";
    options.image = std::move(image);
    options.seeds = Seeds{seed};
    auto created = Module::create(io_, std::move(profile), options);
    if (!created) {
      ADD_FAILURE() << created.error();
      return;
    }
    module_ = std::move(*created);
    module_->subscribe([this](const nlohmann::json& event) {
      if (hook_) hook_(event);
      std::lock_guard lock(mutex_);
      events_.push_back(event);
      changed_.notify_all();
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ModuleHarness() {
    if (module_) on_io([this] { module_->shutdown(); });
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    module_.reset();
  }

  bool ok() const { return module_ != nullptr; }
  // Called on the module's thread for every event, before it is recorded
  // (set it through on_io).
  void set_hook(std::function<void(const nlohmann::json&)> hook) { hook_ = std::move(hook); }
  Module& module() { return *module_; }
  std::filesystem::path port() const { return dir_.path() / "state" / "ttyUSB2"; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // Runs `f` on the module's thread and returns its result.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  // Waits for the `count`th event named `name` (counting from the start).
  bool wait_event(const std::string& name, std::size_t count = 1,
                  std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_locked(name) >= count; });
  }
  std::size_t count(const std::string& name) {
    std::lock_guard lock(mutex_);
    return count_locked(name);
  }
  // The texts of the URC events so far.
  std::vector<std::string> urcs() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (e["event"] == "URC") out.push_back(e["data"]["text"].get<std::string>());
    }
    return out;
  }
  std::vector<nlohmann::json> named(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::vector<nlohmann::json> out;
    for (const auto& e : events_) {
      if (e["event"] == name) out.push_back(e["data"]);
    }
    return out;
  }
  void clear_events() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }
  // Waits for a POWER_STATE event announcing one of `states` among the events
  // recorded since the last clear_events(); returns the first, or nullopt.
  std::optional<PowerState> wait_power_event(std::initializer_list<PowerState> states,
                                             std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    return wait_power_event_locked(lock, 0, states, timeout);
  }

  // Waits until the module is in `state`: already, or a POWER_STATE event
  // announcing it arrives (the module emits one at every change).
  bool wait_power(PowerState state, std::chrono::milliseconds timeout = 10s) {
    std::size_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      seen = events_.size();
    }
    if (on_io([this] { return module_->power_state(); }) == state) return true;
    std::unique_lock lock(mutex_);
    return wait_power_event_locked(lock, seen, {state}, timeout).has_value();
  }
  void power_on() {
    on_io([this] { return module_->power_on(); });
  }

  // The firmware the module runs, read from its NAND (verified).
  fota::FirmwareBundle running_firmware() {
    return on_io([this] {
      auto layout = firmware_layout(module_->profile());
      auto store = fota::FirmwareStore::open(module_->flash().device(), *layout);
      EXPECT_TRUE(store) << store.error().message;
      auto loaded = (*store)->load();
      EXPECT_TRUE(loaded) << loaded.error().message;
      return loaded ? loaded->bundle : fota::FirmwareBundle{};
    });
  }

 private:
  // The first POWER_STATE event for one of `states` at index `from` or later
  // (clear_events() may have shrunk the list since `from` was read).
  std::optional<PowerState> wait_power_event_locked(std::unique_lock<std::mutex>& lock,
                                                    std::size_t from,
                                                    std::initializer_list<PowerState> states,
                                                    std::chrono::milliseconds timeout) {
    std::optional<PowerState> found;
    changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = std::min(from, events_.size()); i < events_.size() && !found; ++i) {
        const auto& e = events_[i];
        if (e["event"] != "POWER_STATE") continue;
        for (const PowerState state : states) {
          if (e["data"].value("state", "") == to_string(state)) found = state;
        }
      }
      return found.has_value();
    });
    return found;
  }
  std::size_t count_locked(const std::string& name) const {
    std::size_t n = 0;
    for (const auto& e : events_)
      n += e["event"] == name;
    return n;
  }

  vmodem::testing::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<Module> module_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<nlohmann::json> events_;
  std::function<void(const nlohmann::json&)> hook_;
};

// A host without a PTY: one command line at a time through an engine of the
// module's registry (its gate included), on the module's thread. The engine
// lives on that thread only; drop() (called there) forgets it, e.g. before a
// reset.
class ModuleTerminal {
 public:
  explicit ModuleTerminal(ModuleHarness& harness) : harness_(harness) {}
  ~ModuleTerminal() {
    harness_.on_io([this] { engine_.reset(); });
  }
  ModuleTerminal(const ModuleTerminal&) = delete;
  ModuleTerminal& operator=(const ModuleTerminal&) = delete;

  // The answer to `line` (no echo, +CMEE=1), without URCs.
  std::string at(const std::string& line) {
    return harness_.on_io([&] {
      if (!engine_) {
        engine_ = std::make_unique<at::Engine>(harness_.module().registry(), at::EngineConfig{});
        engine_->settings().echo = false;
        engine_->settings().cmee = at::CmeeMode::kNumeric;
      }
      (void)engine_->feed(line + "\r");
      return engine_->take_output();
    });
  }
  void drop() { engine_.reset(); }

 private:
  ModuleHarness& harness_;
  std::unique_ptr<at::Engine> engine_;
};

inline Profile builtin(const std::string& name = "bg95-m3") {
  auto profile = load_profile(name);
  EXPECT_TRUE(profile) << profile.error().describe();
  return *profile;
}

// The next version of `fw`: every image edited here and there, a new version.
inline fota::FirmwareBundle next_version(fota::FirmwareBundle fw, const std::string& version) {
  fw.version = version;
  std::uint8_t salt = 1;
  for (auto& image : fw.images) {
    for (std::size_t i = 0; i < image.data.size(); i += 1531)
      image.data[i] = static_cast<std::uint8_t>(image.data[i] ^ salt);
    image.data.insert(image.data.begin() + static_cast<std::ptrdiff_t>(image.data.size() / 3), 300,
                      salt);
    ++salt;
  }
  return fw;
}

inline Bytes package_for(const fota::FirmwareBundle& from, const fota::FirmwareBundle& to) {
  fota::GeneratorOptions options;
  options.thorough = false;
  auto package = fota::make_package(from, to, options);
  EXPECT_TRUE(package) << package.error().message;
  return package ? package->bytes : Bytes{};
}

// The lines between START and RDY, checked: START, [RESTORE], UPDATING rising
// to 100, END 0, RDY.
inline void expect_update_urcs(const std::vector<std::string>& urcs, bool restore = false) {
  auto start = std::find(urcs.begin(), urcs.end(), "+QIND: \"FOTA\",\"START\"");
  ASSERT_NE(start, urcs.end());
  auto it = start + 1;
  if (restore) {
    ASSERT_NE(it, urcs.end());
    EXPECT_TRUE(it->starts_with("+QIND: \"FOTA\",\"RESTORE\",")) << *it;
    ++it;
  }
  int last = 0;
  for (; it != urcs.end() && it->starts_with("+QIND: \"FOTA\",\"UPDATING\","); ++it) {
    const int pct = std::stoi(it->substr(25));
    EXPECT_GT(pct, last) << *it;
    last = pct;
  }
  EXPECT_EQ(last, 100);
  ASSERT_NE(it, urcs.end());
  EXPECT_EQ(*it, "+QIND: \"FOTA\",\"END\",0");
  ASSERT_NE(++it, urcs.end());
  EXPECT_EQ(*it, "RDY");
}

}  // namespace vmodem::sim::testing
