#include "mapping_guard.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <mutex>

#include <sys/mman.h>
#include <unistd.h>

namespace vmodem::nand::mapping_guard {

namespace {

// Read by the signal handler: only lock-free atomics, no allocation.
struct Range {
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
  std::atomic<std::uint64_t> lost{0};
};
constexpr int kSlots = 64;
std::array<Range, kSlots> ranges;
std::mutex slots_mutex;  // guard()/release() only, never the handler
struct sigaction previous {};

void restore_default_and_reraise(int signal) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  raise(signal);
}

void on_sigbus(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (auto& range : ranges) {
    const auto begin = range.begin.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address >= range.end.load(std::memory_order_acquire))
      continue;
    const auto page_size = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    void* page = reinterpret_cast<void*>(address & ~(page_size - 1));
    // mmap is a plain system call here; the faulting access is retried on
    // return and now finds memory.
    if (mmap(page, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
             0) != MAP_FAILED) {
      if (range.lost.fetch_add(1, std::memory_order_relaxed) > 0) return;  // said once
      static const char message[] =
          "vmodem: a page of a NAND image file was lost (file truncated or its disk failed);"
          " the image no longer holds what is written\n";
      (void)!write(STDERR_FILENO, message, sizeof message - 1);
      return;
    }
    break;
  }
  // Not ours: whatever was there before, or the default action.
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signal, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
             previous.sa_handler != nullptr) {
    previous.sa_handler(signal);
  } else {
    restore_default_and_reraise(signal);
  }
}

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
  });
}

}  // namespace

int guard(void* base, std::uint64_t size) {
  install_once();
  std::lock_guard lock(slots_mutex);
  for (int slot = 0; slot < kSlots; ++slot) {
    auto& range = ranges[static_cast<std::size_t>(slot)];
    if (range.begin.load() != 0) continue;
    range.lost.store(0);
    range.end.store(reinterpret_cast<std::uintptr_t>(base) + size);
    range.begin.store(reinterpret_cast<std::uintptr_t>(base), std::memory_order_release);
    return slot;
  }
  return -1;
}

void release(int slot) {
  if (slot < 0) return;
  std::lock_guard lock(slots_mutex);
  auto& range = ranges[static_cast<std::size_t>(slot)];
  range.begin.store(0, std::memory_order_release);
  range.end.store(0);
}

std::uint64_t lost_pages(int slot) {
  return slot < 0 ? 0 : ranges[static_cast<std::size_t>(slot)].lost.load();
}

}  // namespace vmodem::nand::mapping_guard
