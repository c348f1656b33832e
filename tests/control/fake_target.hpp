// A recording stand-in for the module: answers every ControlTarget call with
// canned values, records what it was asked, and checks every call arrives on
// the server's executor thread. Thread-safe (tests read it from their thread).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <vmodem/simulator/control_target.hpp>

namespace vmodem::testing {

class FakeTarget : public sim::ControlTarget {
 public:
  using json = nlohmann::json;

  std::atomic<std::thread::id> executor_thread{};
  std::atomic<int> wrong_thread_calls{0};

  sim::ControlResult status() override {
    return answer("status", {{"power", "running"}, {"model", "BG95-M3"}, {"boots", 1}});
  }
  sim::ControlResult power_on() override { return answer("power-on", json::object()); }
  sim::ControlResult power_off() override { return answer("power-off", json::object()); }
  sim::ControlResult power_cut(const sim::PowerCutRequest& request) override {
    std::lock_guard lock(mutex_);
    last_power_cut_ = request;
    return answer_locked("power-cut", {{"armed", true}});
  }
  sim::ControlResult reset() override { return answer("reset", json::object()); }
  sim::ControlResult inject(const sim::InjectRequest& request) override {
    std::lock_guard lock(mutex_);
    last_inject_ = request;
    return answer_locked("inject", {{"injected", true}});
  }
  sim::ControlResult stats() override { return answer("stats", {{"nand", {{"operations", 42}}}}); }
  // Answered at once, or, after defer_snapshots(), held until
  // complete_snapshot() (as the module answers once its file I/O is done).
  void snapshot_save(const std::string& path, sim::ControlReply done) override {
    snapshot("snapshot-save", path, std::move(done));
  }
  void snapshot_load(const std::string& path, sim::ControlReply done) override {
    snapshot("snapshot-load", path, std::move(done));
  }
  void defer_snapshots() {
    std::lock_guard lock(mutex_);
    defer_snapshots_ = true;
  }
  std::size_t deferred_snapshots() const {
    std::lock_guard lock(mutex_);
    return deferred_.size();
  }
  // Answers the oldest held snapshot request. On the executor.
  void complete_snapshot() {
    sim::ControlReply done;
    {
      std::lock_guard lock(mutex_);
      done = std::move(deferred_.front());
      deferred_.erase(deferred_.begin());
    }
    done(json{{"completed", true}});
  }
  sim::ControlResult backup_info(const std::string& file_system) override {
    return answer("backup-info", {{"file_system", file_system}, {"valid", true}});
  }
  std::uint64_t subscribe(std::function<void(const json&)> listener) override {
    check_thread();
    std::lock_guard lock(mutex_);
    calls_.push_back("subscribe");
    listeners_[next_listener_] = std::move(listener);
    return next_listener_++;
  }
  void unsubscribe(std::uint64_t id) override {
    check_thread();
    std::lock_guard lock(mutex_);
    calls_.push_back("unsubscribe");
    listeners_.erase(id);
  }

  // The next call to `command` fails with `error` (or throws, if `throws`).
  void fail_next(const std::string& command, sim::ControlError error, bool throws = false) {
    std::lock_guard lock(mutex_);
    failures_[command] = {std::move(error), throws};
  }
  // Emits an event to every listener, from the calling thread (the module
  // may emit from any thread).
  void emit(const json& event) {
    std::vector<std::function<void(const json&)>> listeners;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, listener] : listeners_)
        listeners.push_back(listener);
    }
    for (const auto& listener : listeners)
      listener(event);
  }
  std::size_t listener_count() const {
    std::lock_guard lock(mutex_);
    return listeners_.size();
  }
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::optional<sim::PowerCutRequest> last_power_cut() const {
    std::lock_guard lock(mutex_);
    return last_power_cut_;
  }
  std::optional<sim::InjectRequest> last_inject() const {
    std::lock_guard lock(mutex_);
    return last_inject_;
  }

 private:
  struct Failure {
    sim::ControlError error;
    bool throws;
  };

  void snapshot(const std::string& command, const std::string& path, sim::ControlReply done) {
    std::unique_lock lock(mutex_);
    if (defer_snapshots_) {
      check_thread();
      calls_.push_back(command);
      deferred_.push_back(std::move(done));
      return;
    }
    auto result = answer_locked(command, {{"path", path}});
    lock.unlock();
    done(std::move(result));
  }

  void check_thread() {
    if (executor_thread.load() != std::this_thread::get_id()) ++wrong_thread_calls;
  }
  sim::ControlResult answer(const std::string& command, json value) {
    std::lock_guard lock(mutex_);
    return answer_locked(command, std::move(value));
  }
  sim::ControlResult answer_locked(const std::string& command, json value) {
    check_thread();
    calls_.push_back(command);
    if (auto it = failures_.find(command); it != failures_.end()) {
      Failure failure = it->second;
      failures_.erase(it);
      if (failure.throws) throw std::runtime_error(failure.error.desc);
      return tl::unexpected(failure.error);
    }
    return value;
  }

  mutable std::mutex mutex_;
  std::vector<std::string> calls_;
  std::map<std::string, Failure> failures_;
  std::map<std::uint64_t, std::function<void(const json&)>> listeners_;
  std::uint64_t next_listener_ = 1;
  std::optional<sim::PowerCutRequest> last_power_cut_;
  std::optional<sim::InjectRequest> last_inject_;
  bool defer_snapshots_ = false;
  std::vector<sim::ControlReply> deferred_;
};

}  // namespace vmodem::testing
