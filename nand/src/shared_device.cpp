#include <chrono>
#include <optional>
#include <thread>

#include <vmodem/nand/shared_device.hpp>

namespace vmodem::nand {

SharedDevice::SharedDevice(FaultInjector& faults) : geometry_(faults.geometry()), faults_(&faults) {
  faults.chip().leave_pacing_waits_to_caller(true);
}

template <typename Run>
auto SharedDevice::paced(Run run) {
  std::optional<std::chrono::steady_clock::time_point> until;
  auto result = [&] {
    const MutexLock lock(mutex_);
    auto done = run(*faults_);
    until = faults_->chip().pacing_deadline();
    return done;
  }();
  if (until) std::this_thread::sleep_until(*until);
  return result;
}

Result<ReadInfo> SharedDevice::read(PageAddr addr, std::span<std::uint8_t> main,
                                    std::span<std::uint8_t> spare) {
  return paced([&](FaultInjector& faults) { return faults.read(addr, main, spare); });
}

Result<ReadInfo> SharedDevice::read_column(PageAddr addr, std::uint32_t column,
                                           std::span<std::uint8_t> out) {
  return paced([&](FaultInjector& faults) { return faults.read_column(addr, column, out); });
}

Status SharedDevice::program(PageAddr addr, std::span<const std::uint8_t> main,
                             std::span<const std::uint8_t> spare) {
  return paced([&](FaultInjector& faults) { return faults.program(addr, main, spare); });
}

Status SharedDevice::program_partial(PageAddr addr, std::uint32_t column,
                                     std::span<const std::uint8_t> bytes) {
  return paced([&](FaultInjector& faults) { return faults.program_partial(addr, column, bytes); });
}

Status SharedDevice::erase(std::uint32_t block) {
  return paced([&](FaultInjector& faults) { return faults.erase(block); });
}

Result<bool> SharedDevice::is_bad(std::uint32_t block) {
  return paced([&](FaultInjector& faults) { return faults.is_bad(block); });
}

Status SharedDevice::mark_bad(std::uint32_t block) {
  return paced([&](FaultInjector& faults) { return faults.mark_bad(block); });
}

SharedDevice::Access SharedDevice::lock() {
  return Access(mutex_, faults_);
}

}  // namespace vmodem::nand
