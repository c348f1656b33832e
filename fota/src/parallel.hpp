// Running independent pieces of the generator on every core.
//
// The generator's candidates (matcher thresholds, projection layouts) are
// independent and each is a few milliseconds to a few hundred: a handful of
// threads for the length of one call, no pool to own or shut down.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace vmodem::fota::detail {

// Calls work(i) once for every i in [0, count), on up to
// hardware_concurrency() threads (the calling thread is one of them), and
// returns when all calls have returned. Calls must not depend on each other's
// order; results go into slots indexed by i, so the outcome is the same on one
// core or many. An exception from a call is rethrown here after the others
// finish.
template <typename Work>
void parallel_for(std::size_t count, const Work& work) {
  const std::size_t threads =
      std::min<std::size_t>(count, std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto drain = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard lock(failure_lock);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::jthread> helpers;
  for (std::size_t t = 1; t < threads; ++t)
    helpers.emplace_back(drain);
  drain();
  helpers.clear();  // joins
  if (failure) std::rethrow_exception(failure);
}

}  // namespace vmodem::fota::detail
