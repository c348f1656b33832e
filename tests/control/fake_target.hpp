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

  sim::Controlled<sim::ModuleStatus> status() override {
    sim::ModuleStatus status;
    status.power = sim::PowerState::app_rdy;
    status.model = "BG95-M3";
    status.boots = 1;
    return answer("status", status);
  }
  sim::Controlled<sim::PowerState> power_on() override {
    return answer("power-on", sim::PowerState::booting);
  }
  sim::Controlled<sim::PowerState> power_off() override {
    return answer("power-off", sim::PowerState::off);
  }
  sim::Controlled<sim::PowerCutOutcome> power_cut(const sim::PowerCutRequest& request) override {
    std::lock_guard lock(mutex_);
    last_power_cut_ = request;
    sim::PowerCutOutcome armed;
    armed.armed = true;
    armed.rule = 7;
    return answer_locked("power-cut", armed);
  }
  sim::Controlled<sim::PowerState> reset() override {
    return answer("reset", sim::PowerState::booting);
  }
  sim::Controlled<sim::InjectOutcome> inject(const sim::InjectRequest& request) override {
    std::lock_guard lock(mutex_);
    last_inject_ = request;
    return answer_locked("inject", sim::InjectOutcome{sim::NandDamaged{3, 1}});
  }
  sim::Controlled<sim::ModuleStats> stats() override {
    sim::ModuleStats stats;
    stats.nand.counters.operations = 42;
    return answer("stats", stats);
  }
  // Answered at once, or, after defer_snapshots(), held until
  // complete_snapshot() (as the module answers once its file I/O is done).
  void snapshot_save(const std::string& path, sim::SnapshotReply done) override {
    snapshot("snapshot-save", path, std::move(done));
  }
  void snapshot_load(const std::string& path, sim::SnapshotReply done) override {
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
    Deferred held;
    {
      std::lock_guard lock(mutex_);
      held = std::move(deferred_.front());
      deferred_.erase(deferred_.begin());
    }
    held.done(sim::SnapshotDone{held.path, 4096});
  }
  sim::Controlled<sim::BackupReport> backup_info(const std::string& file_system) override {
    sim::BackupReport report{file_system, {}};
    report.info.valid = true;
    return answer("backup-info", report);
  }
  sim::Controlled<sim::FileChecksum> file_crc32(const std::string& path) override {
    return answer("crc32", sim::FileChecksum{path, 0x1234, false});
  }
  sim::Controlled<sim::FileChecksum> checksum_update(const std::string& path) override {
    return answer("checksum-update", sim::FileChecksum{path, 0x1234, true});
  }
  sim::Controlled<sim::AppFotaStaged> app_fota(const std::string& path) override {
    return answer(
        "app-fota",
        sim::AppFotaStaged{.path = path, .bytes = 1, .added = 0, .changed = 1, .removed = 0});
  }
  void app_sync(sim::AppSyncReply done) override {
    done(answer("app-sync", sim::AppSyncDone{.outcome = "in_step",
                                             .system_version = 1,
                                             .backup_version = 1,
                                             .files = 0,
                                             .bytes = 0,
                                             .script = std::nullopt}));
  }
  sim::Controlled<sim::FastbootErased> fastboot_erase(const std::string& partition) override {
    return answer(
        "fastboot-erase",
        sim::FastbootErased{
            .partition = partition, .erased_blocks = 8, .failed_blocks = 0, .was_on = true});
  }
  sim::Controlled<sim::SimReport> sim_remove() override {
    return answer("sim-remove", sim::SimReport{.state = "absent", .changed = true});
  }
  sim::Controlled<sim::SimReport> sim_insert(bool fresh) override {
    std::lock_guard lock(mutex_);
    last_sim_fresh_ = fresh;
    return answer_locked("sim-insert", sim::SimReport{.state = "ready", .changed = true});
  }
  sim::Controlled<sim::NetworkReport> network(const sim::NetworkRequest& request) override {
    std::lock_guard lock(mutex_);
    last_network_ = request;
    return answer_locked("network",
                         sim::NetworkReport{.latency_ms = request.latency_ms.value_or(0),
                                            .coverage = request.coverage.value_or(true)});
  }
  sim::Controlled<sim::SmsDelivered> sms_deliver(const sim::SmsDeliverRequest& request) override {
    if (request.from == "full")
      return tl::unexpected(sim::ControlError{"InvalidParameter", "SM is full"});
    return answer("sms-deliver", sim::SmsDelivered{.storage = "SM", .index = 0, .direct = false});
  }
  sim::Controlled<std::vector<sim::SmsRecord>> sms_outbox(bool clear) override {
    return answer(clear ? "sms-outbox --clear" : "sms-outbox",
                  std::vector<sim::SmsRecord>{{.to = "+123",
                                               .mr = 0,
                                               .text = "hi",
                                               .alphabet = "gsm7",
                                               .pdu = "00",
                                               .timestamp_us = 1}});
  }
  // One armed rule (id 7); disarming it or all empties the list.
  sim::Controlled<std::vector<vmodem::nand::ArmedRule>> faults() override {
    std::lock_guard lock(mutex_);
    std::vector<vmodem::nand::ArmedRule> rules;
    if (!disarmed_) rules.push_back({7, vmodem::nand::FaultRule{}, 2, 0});
    return answer_locked("faults", rules);
  }
  sim::Controlled<std::vector<std::uint32_t>> disarm(std::optional<std::uint32_t> id) override {
    std::lock_guard lock(mutex_);
    if ((id && *id != 7) || disarmed_)
      return tl::unexpected(sim::ControlError{"InvalidParameter", "no such rule"});
    disarmed_ = true;
    return answer_locked(id ? "disarm" : "disarm --all", std::vector<std::uint32_t>{7});
  }
  sim::Controlled<sim::GnssReport> gnss(const sim::GnssRequest& request) override {
    return answer("gnss", sim::GnssReport{.latitude = request.latitude.value_or(0),
                                          .longitude = request.longitude.value_or(0)});
  }
  std::optional<sim::NetworkRequest> last_network() const {
    std::lock_guard lock(mutex_);
    return last_network_;
  }
  std::optional<bool> last_sim_fresh() const {
    std::lock_guard lock(mutex_);
    return last_sim_fresh_;
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
  struct Deferred {
    std::string path;
    sim::SnapshotReply done;
  };

  void snapshot(const std::string& command, const std::string& path, sim::SnapshotReply done) {
    std::unique_lock lock(mutex_);
    if (defer_snapshots_) {
      check_thread();
      calls_.push_back(command);
      deferred_.push_back({path, std::move(done)});
      return;
    }
    auto result = answer_locked(command, sim::SnapshotDone{path, std::nullopt});
    lock.unlock();
    done(std::move(result));
  }

  void check_thread() {
    if (executor_thread.load() != std::this_thread::get_id()) ++wrong_thread_calls;
  }
  template <class T>
  sim::Controlled<T> answer(const std::string& command, T value) {
    std::lock_guard lock(mutex_);
    return answer_locked(command, std::move(value));
  }
  template <class T>
  sim::Controlled<T> answer_locked(const std::string& command, T value) {
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
  std::optional<bool> last_sim_fresh_;
  std::optional<sim::NetworkRequest> last_network_;
  bool defer_snapshots_ = false;
  bool disarmed_ = false;  // rule 7 was disarmed
  std::vector<Deferred> deferred_;
};

}  // namespace vmodem::testing
